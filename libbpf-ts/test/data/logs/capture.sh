#!/bin/bash
# Re-captures the verifier logs in this directory from the running kernel (root, clang, libbpf-dev).
#   <name>.l1.log / .l2.log: log level 1 / 2 of <name>.bpf.c; accepted.l4.log: level 4 (stats only).
#   uninit-*: loaded without CAP_PERFMON/CAP_SYS_ADMIN (root may read uninitialised stack).
#   loop-complexity.l1.head.log: the first 1000 lines of its 130 MB level-1 log;
#   loop-complexity.l{1,2}.tail.log: what a 64 KiB rotating log buffer kept (the kernel keeps the tail).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -Wall -o "$tmp/loader" loader.c -lbpf
for src in *.bpf.c; do
	name=${src%.bpf.c}
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$tmp/$name.o"
done
load() { # OBJ LEVEL [BUFSIZE] -> log on stdout
	local run=()
	case $1 in uninit-*) run=(setpriv --inh-caps=-all --bounding-set=-sys_admin,-perfmon --) ;; esac
	"${run[@]}" "$tmp/loader" "$tmp/$1.o" "$2" "" "${3:-16777216}" 2>/dev/null || true
}
for src in *.bpf.c; do
	name=${src%.bpf.c}
	case $name in
	accepted) load accepted 4 >accepted.l4.log ;;
	loop-complexity)
		load "$name" 1 $((256 << 20)) | head -n 1000 >"$name.l1.head.log"
		load "$name" 1 65536 >"$name.l1.tail.log"
		load "$name" 2 65536 >"$name.l2.tail.log"
		;;
	*)
		load "$name" 1 >"$name.l1.log"
		load "$name" 2 >"$name.l2.log"
		;;
	esac
done
