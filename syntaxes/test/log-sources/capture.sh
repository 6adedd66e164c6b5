#!/bin/bash
# Prints the verifier logs that the *.test.bpf-verifier-log files were cut from (root, clang, bpftool):
#   map-null <- mapnull, ref-leak <- refleak, subprog <- ok (level 2), pruning <- safe (level 2),
#   errors <- pkt, retval, unknown, gpl, wronghelper, misaligned, loop (level 1).
# Usage: capture.sh [name...]   (default: all). Pins nothing that outlives it.
set -uo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
pin=/sys/fs/bpf/syntaxes_capture_$$
trap 'rm -rf "$tmp"; rm -f "$pin"' EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(mapnull refleak ok safe pkt retval unknown gpl wronghelper misaligned loop)
for name in "${names[@]}"; do
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$name.bpf.c" -o "$tmp/$name.o" || exit 1
	debug=()
	case $name in ok | safe) debug=(-d) ;; esac # -d: log level 2 (every state)
	echo "=== $name"
	bpftool "${debug[@]}" prog load "$tmp/$name.o" "$pin" 2>&1 |
		awk '/-- BEGIN PROG LOAD LOG --/ { f = 1; next } /-- END PROG LOAD LOG --/ { f = 0 } f'
	rm -f "$pin"
done
