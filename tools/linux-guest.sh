#!/bin/bash
# Build Keel's reference Linux guest from Debian 12's own packages:
#   OUTDIR/vmlinuz         the stock Debian bzImage, unmodified
#   OUTDIR/initrd.img      gzip'd newc cpio: busybox, a few modules, our /init
#   OUTDIR/kernel-version  e.g. 6.1.0-57-amd64
#
# Usage: tools/linux-guest.sh [OUTDIR]     (default: build/linux in the clone)
#
# The kernel package is resolved from linux-image-amd64 every run, because
# the ABI number in its name moves and old packages leave the mirror. The
# .debs are cached in ${KEEL_CACHE:-~/.cache/keel}/debs, outside the clone,
# and everything unpacked goes under OUTDIR (build/ is never committed).
# A second run with nothing changed only checks and exits.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
DATA=$ROOT/tools/linux-guest
SELF=$ROOT/tools/linux-guest.sh
CACHE=${KEEL_CACHE:-$HOME/.cache/keel}/debs

# Loaded later by the guest (virtio) or by /init (button, evdev); their
# dependencies are added from modules.dep.
MODULES="virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_net net_failover failover virtio_blk virtio_console button evdev"

# Files copied into the initramfs; a change to any of them rebuilds it.
DATA_FILES="init acpid.conf power-button"

say() { echo "linux-guest: $*"; }
die() {
	echo "linux-guest: error: $*" >&2
	exit 1
}

need_tools() {
	local t missing=""
	for t in apt-get apt-cache dpkg-deb depmod cpio gzip awk; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	# depmod lives in /sbin, which a non-root PATH may lack.
	if [ -n "$missing" ] && [ -x /sbin/depmod ]; then
		PATH=$PATH:/sbin:/usr/sbin
		missing=${missing/ depmod/}
	fi
	[ -z "$missing" ] || die "missing tools:$missing (run tools/deps.sh)"
}

# OUTDIR, absolute. Inside the clone only build/ may receive unpacked trees.
out_dir() {
	local out=${1:-build/linux}
	case $out in /*) ;; *) out=$ROOT/$out ;; esac
	out=$(realpath -m "$out")
	case $out/ in
	"$ROOT"/build/*) ;;
	"$ROOT"/*) die "OUTDIR $out is in the source tree; use build/... or a path outside the clone" ;;
	esac
	echo "$out"
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		return 1
	fi
}

# Sets KPKG (linux-image-6.1.0-NN-amd64), KVER, KARCH, BBVER and BBARCH
# from apt's lists, in one apt-cache call (each takes about a second).
# The metapackage's Depends names the kernel package and, today, its
# version: "Depends: linux-image-6.1.0-57-amd64 (= 6.1.192-3)". Fails
# when apt's lists do not know the packages.
resolve() {
	local fields
	fields=$(apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null |
		awk '
			/^Package: / { pkg = $2 }
			pkg == "linux-image-amd64" && /^Architecture: / { karch = $2 }
			pkg == "linux-image-amd64" && /^Depends: / {
				if (match($0, /linux-image-[0-9][^ ,]*/)) kpkg = substr($0, RSTART, RLENGTH)
				if (match($0, /linux-image-[0-9][^ ,]* \(= [^)]*\)/)) {
					kver = substr($0, RSTART, RLENGTH); sub(/.*\(= /, "", kver); sub(/\)$/, "", kver)
				}
			}
			pkg == "busybox-static" && /^Version: / { bbver = $2 }
			pkg == "busybox-static" && /^Architecture: / { bbarch = $2 }
			END { print kpkg, (kver == "" ? "-" : kver), karch, bbver, bbarch }')
	read -r KPKG KVER KARCH BBVER BBARCH <<<"$fields"
	[ -n "$KPKG" ] && [ -n "$KARCH" ] && [ -n "$BBVER" ] && [ -n "$BBARCH" ] || return 1
	# A Depends without "(= version)": ask for the kernel package itself.
	if [ "$KVER" = - ]; then
		KVER=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
		[ -n "$KVER" ] || return 1
	fi
}

# apt-get update, as root or through sudo; $1 says why. Sets UPDATE_ERR to
# apt's first error or warning line: apt-get update exits 0 when it cannot
# reach the mirror, and that line says why nothing new was found.
apt_update() {
	local log rc=0
	say "$1; running apt-get update"
	log=$(as_root apt-get update -q 2>&1) || rc=1
	UPDATE_ERR=$(printf '%s\n' "$log" | grep -E '^(E|W):' | head -n 1 || true)
	[ "$rc" -eq 0 ] || UPDATE_ERR=${UPDATE_ERR:-not root and no sudo}
	return "$rc"
}

# apt-get download's file name: the epoch's ':' is written %3a.
deb_name() { echo "${1}_${2//:/%3a}_${3}.deb"; }

# Download package $1 version $2 into the cache as $3 unless already there.
# Into a scratch directory first, so an interrupted download leaves no half
# file under the final name. On failure sets FETCH_ERR.
fetch() {
	local pkg=$1 ver=$2 file=$3 tmp=$CACHE/.partial opts=()
	[ -s "$CACHE/$file" ] && return 0
	say "downloading $pkg $ver ..."
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# As root apt drops to the _apt user to download, who cannot write in
	# root's home: download as root instead.
	[ "$(id -u)" -ne 0 ] || opts=(-o APT::Sandbox::User=root)
	if ! (cd "$tmp" && apt-get download -q "${opts[@]}" "$pkg=$ver") >"$tmp/log" 2>&1; then
		FETCH_ERR="could not download $pkg $ver"
		FETCH_ERR+=": $(grep -E '^(E|Err):' "$tmp/log" | tail -n 1 || true) (log: $tmp/log)"
		return 1
	fi
	mv "$tmp"/*.deb "$CACHE/$file"
	rm -rf "$tmp"
	# Only the version in use is kept: each kernel .deb is ~70 MB.
	find "$CACHE" -maxdepth 1 -name "${pkg}_*.deb" ! -name "$file" -delete
}

# Both packages, at the versions resolve() found; sets KDEB and BBDEB.
fetch_both() {
	KDEB=$(deb_name "$KPKG" "$KVER" "$KARCH")
	BBDEB=$(deb_name busybox-static "$BBVER" "$BBARCH")
	mkdir -p "$CACHE"
	fetch "$KPKG" "$KVER" "$KDEB" && fetch busybox-static "$BBVER" "$BBDEB"
}

# When a download fails apt's lists may be stale (the package left the
# mirror): update once, resolve again and retry.
fetch_all() {
	fetch_both && return 0
	apt_update "download failed" || die "$FETCH_ERR; apt-get update failed too: $UPDATE_ERR"
	resolve || die "cannot resolve linux-image-amd64 and busybox-static after apt-get update${UPDATE_ERR:+ ($UPDATE_ERR)}"
	fetch_both || die "$FETCH_ERR"
}

# What the outputs were built from: .deb names and our files' contents.
inputs_stamp() {
	echo "kernel $KDEB"
	echo "busybox $BBDEB"
	(cd "$ROOT/tools" && cksum linux-guest.sh)
	# shellcheck disable=SC2086 # a list of plain names
	(cd "$DATA" && cksum $DATA_FILES)
}

up_to_date() {
	local f
	for f in vmlinuz initrd.img kernel-version .inputs; do
		[ -f "$OUT/$f" ] || return 1
	done
	[ "$(cat "$OUT/kernel-version")" = "$KV" ] || return 1
	[ "$(cat "$OUT/.inputs")" = "$(inputs_stamp)" ] || return 1
	for f in "$CACHE/$KDEB" "$CACHE/$BBDEB" "$SELF"; do
		[ "$OUT/initrd.img" -nt "$f" ] || return 1
	done
	for f in $DATA_FILES; do
		[ "$OUT/initrd.img" -nt "$DATA/$f" ] || return 1
	done
}

# dpkg-deb -x $1 into $2 unless $2 already holds it. A stamp file naming the
# .deb is written last, so an interrupted unpack is redone.
unpack() {
	local deb=$1 dir=$2
	[ "$(cat "$dir/.deb" 2>/dev/null)" = "$(basename "$deb")" ] && return 0
	say "unpacking $(basename "$deb") into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
	"${3:-true}" "$dir"
	basename "$deb" >"$dir/.deb"
}

# After unpacking the kernel: the .deb ships no modules.dep (its postinst
# makes one), so run depmod on the tree.
prepare_kernel() {
	local kroot=$1
	# Merged-/usr kernels put modules in usr/lib; depmod -b looks in lib.
	if [ ! -e "$kroot/lib" ] && [ -d "$kroot/usr/lib/modules" ]; then
		ln -s usr/lib "$kroot/lib"
	fi
	[ -d "$kroot/lib/modules/$KV" ] || die "$KDEB has no lib/modules/$KV"
	[ -f "$kroot/boot/vmlinuz-$KV" ] || die "$KDEB has no boot/vmlinuz-$KV"
	say "depmod $KV"
	depmod -b "$kroot" "$KV" || die "depmod -b $kroot $KV failed"
}

unpack_all() {
	unpack "$CACHE/$KDEB" "$OUT/root-kernel" prepare_kernel
	unpack "$CACHE/$BBDEB" "$OUT/root-busybox"
	[ -x "$OUT/root-busybox/bin/busybox" ] || die "$BBDEB has no bin/busybox"
}

# Paths (relative to lib/modules/$KV) of $MODULES and everything they need,
# from modules.dep. Names match file names with '-' read as '_'. A module
# built into the kernel needs no file and is skipped.
module_closure() {
	local mdir=$1
	awk -v want="$MODULES" '
		function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
		function add(p,    d, n, i) {
			if (p in seen) return
			seen[p] = 1
			print p
			n = split(deps[p], d, " ")
			for (i = 1; i <= n; i++) add(d[i])
		}
		FILENAME ~ /modules\.builtin$/ { builtin[base($0)] = 1; next }
		{ p = $1; sub(/:$/, "", p); $1 = ""; deps[p] = $0; path[base(p)] = p }
		END {
			n = split(want, w, /[ \n]+/)
			for (i = 1; i <= n; i++) {
				if (w[i] in path) add(path[w[i]])
				else if (!(w[i] in builtin)) { print "missing " w[i] > "/dev/stderr"; bad = 1 }
			}
			exit bad
		}' "$mdir/modules.builtin" "$mdir/modules.dep"
}

# Copy module $1 (a path under $2) to the same path under $3, decompressed:
# busybox modprobe reads .xz only if built with it, plain .ko always works.
copy_module() {
	local rel=$1 from=$2 to=$3
	mkdir -p "$to/$(dirname "$rel")"
	case $rel in
	*.ko) cp "$from/$rel" "$to/$rel" ;;
	*.ko.xz) xz -dc "$from/$rel" >"$to/${rel%.xz}" ;;
	*.ko.gz) gzip -dc "$from/$rel" >"$to/${rel%.gz}" ;;
	*.ko.zst) zstd -qdc "$from/$rel" >"$to/${rel%.zst}" ;;
	*) die "unknown module file type: $rel" ;;
	esac
}

# One newc cpio entry: $1 name, $2 mode, $3/$4 device major and minor,
# $5 data (a symlink's target). Only bash builtins: the ~300 busybox applet
# links are written this way because forking ln for each takes seconds here.
# /dev/console is written this way too (the kernel opens it before /init
# runs, so before devtmpfs is mounted), which saves mknod and so root.
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 data=${5:-}
	local namesize=$((${#1} + 1))
	# magic ino mode uid gid nlink mtime filesize devmajor devminor
	# rdevmajor rdevminor namesize check, then the name and its NUL.
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$mode" 0 0 1 0 "${#data}" 0 0 "$major" "$minor" "$namesize" 0 "$name"
	# The header (110 bytes) with the name, then the data, are each padded
	# to a multiple of 4 bytes.
	nul_pad $(((4 - (110 + namesize) % 4) % 4))
	printf '%s' "$data"
	nul_pad $(((4 - ${#data} % 4) % 4))
}

nul_pad() {
	case $1 in
	1) printf '\0' ;;
	2) printf '\0\0' ;;
	3) printf '\0\0\0' ;;
	esac
}

# A second cpio archive, after the tree: /dev/console (char 5:1, 0600), a
# symlink to /bin/busybox for each applet at busybox's own path for it
# (sbin/acpid, bin/sh, ...), and the trailer.
extra_archive() {
	local stage=$1 applet
	newc_entry dev/console $((0020600)) 5 1
	for applet in $("$stage/bin/busybox" --list-full); do
		case $applet in bin/busybox | linuxrc) continue ;; esac
		[ -d "$stage/${applet%/*}" ] || die "no directory for busybox applet $applet"
		[ -e "$stage/$applet" ] || newc_entry "$applet" $((0120777)) 0 0 /bin/busybox
	done
	newc_entry 'TRAILER!!!' 0 0 0
}

build_initramfs() {
	local stage=$OUT/initramfs kmods=$OUT/root-kernel/lib/modules/$KV
	local mods rel
	say "building initramfs"
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc/acpi,var/log,var/run}

	cp "$OUT/root-busybox/bin/busybox" "$stage/bin/busybox"

	mods=$(module_closure "$kmods") || die "modules not found in $KPKG (see above)"
	mkdir -p "$stage/lib/modules/$KV"
	for rel in $mods; do
		copy_module "$rel" "$kmods" "$stage/lib/modules/$KV"
	done
	cp "$kmods/modules.builtin" "$kmods/modules.builtin.modinfo" "$stage/lib/modules/$KV/"
	# The kernel's load order, cut to what we ship (depmod sorts by it).
	for rel in $mods; do echo "${rel%%.ko*}.ko"; done |
		grep -Fxf - "$kmods/modules.order" >"$stage/lib/modules/$KV/modules.order" || true
	depmod -b "$stage" "$KV" || die "depmod for the initramfs failed"

	install -m 755 "$DATA/init" "$stage/init"
	install -m 644 "$DATA/acpid.conf" "$stage/etc/acpid.conf"
	install -m 755 "$DATA/power-button" "$stage/etc/acpi/power-button"

	# Two archives back to back (the kernel unpacks both): the tree, owned
	# by root, then extra_archive.
	{
		(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --quiet)
		extra_archive "$stage"
	} | gzip -n -9 >"$OUT/initrd.img.tmp"
	mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
	say "modules: $(for rel in $mods; do basename "${rel%%.ko*}"; done | LC_ALL=C sort | tr '\n' ' ')"
}

main() {
	[ $# -le 1 ] || die "usage: tools/linux-guest.sh [OUTDIR]"
	need_tools
	OUT=$(out_dir "${1:-}")

	if ! resolve; then
		apt_update "apt-cache cannot resolve linux-image-amd64 or busybox-static" ||
			die "cannot resolve linux-image-amd64 and busybox-static, and apt-get update failed: $UPDATE_ERR"
		resolve || die "cannot resolve linux-image-amd64 and busybox-static after apt-get update${UPDATE_ERR:+ ($UPDATE_ERR)}"
	fi
	fetch_all
	KV=${KPKG#linux-image-}

	if up_to_date; then
		say "$OUT is up to date (kernel $KV)"
		return 0
	fi
	mkdir -p "$OUT"
	rm -f "$OUT/.inputs"
	unpack_all
	build_initramfs
	cp "$OUT/root-kernel/boot/vmlinuz-$KV" "$OUT/vmlinuz"
	echo "$KV" >"$OUT/kernel-version"
	inputs_stamp >"$OUT/.inputs"
	say "done: $OUT/vmlinuz $OUT/initrd.img (kernel $KV, $(du -k "$OUT/initrd.img" | cut -f1) KiB initramfs)"
}

main "$@"
