#!/bin/sh
# Build the image `make run` boots: Keel plus a demo Debian guest (VM `demo`,
# autostarted) from the kernel and initramfs tools/linux-guest.sh built.
#   demo-iso.sh BUILD      reads BUILD/keel.elf and BUILD/linux, writes BUILD/keel-demo.iso
set -eu
build=$1
out=$build/keel-demo.iso
# A private tree and a rename, so two builds at once (a test run and a
# benchmark) never see each other's half-written files.
root=$(mktemp -d "$build/demo-iso.XXXXXX")
trap 'rm -rf "$root" "$out.$$" "$out.$$.log"' EXIT

for f in "$build/keel.elf" "$build/linux/vmlinuz" "$build/linux/initrd.img"; do
	[ -r "$f" ] || { echo "demo-iso: $f missing (make iso linux-guest)" >&2; exit 1; }
done
mkdir -p "$root/boot/grub" "$root/linux"
cp "$build/keel.elf" "$root/boot/keel.elf"
cp "$build/linux/vmlinuz" "$build/linux/initrd.img" "$root/linux/"
# pmtimer=host: under QEMU TCG an emulated PM-timer read is too slow for
# Linux's TSC calibration (README, Declaring VMs). `quiet` is Debian's default.
cat >"$root/boot/grub/grub.cfg" <<'EOF'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0

menuentry "Keel with a demo Debian guest" {
	multiboot2 /boot/keel.elf pmtimer=host vm=demo,kernel=vmlinuz,initrd=initrd.img,mem=256M,cpus=2
	module2 /linux/vmlinuz vmlinuz console=ttyS0 panic=1 quiet
	module2 /linux/initrd.img initrd.img
	boot
}

menuentry "Keel without guests" {
	multiboot2 /boot/keel.elf
	boot
}
EOF
grub-mkrescue -o "$out.$$" "$root" 2>"$out.$$.log" ||
	{ cat "$out.$$.log" >&2; exit 1; }
mv "$out.$$" "$out"
echo "demo-iso: $out (VM demo: Debian $(cat "$build/linux/kernel-version"), 256 MiB, 2 vCPUs)"
