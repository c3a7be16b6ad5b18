#!/bin/sh
# Install the Debian 12 packages Keel's build and tests need, when missing.
# Idempotent: prints what it installs, and nothing else when all is present.
set -eu

PACKAGES="
gcc make binutils libc6-dev python3
qemu-system-x86 qemu-utils ovmf seabios
grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
libcmocka-dev clang-format clang libclang-rt-14-dev
bochs bochsbios bochs-term vgabios
cpio kmod xz-utils gzip
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: not root and no sudo; install these packages:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "deps: done"
