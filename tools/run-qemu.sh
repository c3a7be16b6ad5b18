#!/bin/sh
# Boot Keel's ISO in QEMU with the serial console on this terminal.
#   run-qemu.sh ISO bios|uefi      ACCEL=kvm|tcg overrides the accelerator choice.
# Quit QEMU with Ctrl-A X.
set -eu
iso=$1
mode=${2:-bios}

can_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -Eqw 'vmx|svm' /proc/cpuinfo
}

accel=${ACCEL:-}
if [ -z "$accel" ]; then
	if can_kvm; then accel=kvm; else accel=tcg; fi
fi
case "$accel" in
kvm) accel_args="-accel kvm -cpu host"; why="KVM with the host CPU (nested VT-x/AMD-V)" ;;
tcg) accel_args="-accel tcg -cpu max"; why="TCG emulation, -cpu max (SVM with NPT)" ;;
*) echo "run-qemu: ACCEL must be kvm or tcg, not '$accel'" >&2; exit 1 ;;
esac
echo "run-qemu: accelerator: $why"

fw_args=""
if [ "$mode" = uefi ]; then
	fw=/usr/share/ovmf/OVMF.fd
	[ -r "$fw" ] || { echo "run-qemu: $fw missing (package ovmf)" >&2; exit 1; }
	fw_args="-bios $fw"
fi
echo "run-qemu: firmware: $mode; serial console below (Ctrl-A X quits)"
# shellcheck disable=SC2086
exec qemu-system-x86_64 $accel_args $fw_args -m ${MEM:-512} -smp ${SMP:-2} \
	-cdrom "$iso" -display none -serial mon:stdio -no-reboot
