#!/usr/bin/python3
"""Run every cmocka unit-test binary given on the command line and print one
summary line, 'N passed, M failed', counting test cases."""
import re
import subprocess
import sys


def main(bins):
    passed = failed = 0
    broken = []
    for b in bins:
        r = subprocess.run([b], capture_output=True, text=True)
        out = r.stdout + r.stderr
        p = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
        f = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if r.returncode != 0 and f == 0:
            f = 1  # crashed or sanitizer report without a cmocka verdict
        passed += p
        failed += f
        if r.returncode != 0:
            broken.append(b)
            sys.stdout.write(out)
        print(f"unit: {b}: {p} passed, {f} failed")
    print(f"unit: {passed} passed, {failed} failed")
    return 1 if broken or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
