#!/usr/bin/env bash
# Installs what `npm run demo` and `npm test` need on a Debian/Ubuntu machine, then builds.
# Idempotent: each step runs only when its result is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v llvm-objdump >/dev/null 2>&1 || missing+=(llvm)
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
[ -f /usr/include/linux/bpf.h ] || missing+=(linux-libc-dev)
ldconfig -p 2>/dev/null | grep -q 'libbpf\.so\.1 ' || missing+=(libbpf1)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v bpftool >/dev/null 2>&1 || missing+=(bpftool)
[ -x /usr/bin/time ] || missing+=(time)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The VM nodes (test-support/src/vm, docs/vm-node.md): QEMU for amd64 and arm64 guests, qemu-img, debootstrap.
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v qemu-system-aarch64 >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    # Ubuntu ships bpftool in linux-tools rather than a bpftool package.
    rest=("${missing[@]/bpftool/}")
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ${rest[@]} linux-tools-common "linux-tools-$(uname -r)"
  fi
fi

if [ -d /sys/fs/bpf ] && ! mountpoint -q /sys/fs/bpf; then
  $SUDO mount -t bpf bpf /sys/fs/bpf || echo "setup: could not mount bpffs at /sys/fs/bpf (only needed for --persistent attachments)"
fi

stamp=node_modules/.ebpf-studio-lock.sha256
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$sum" > "$stamp"
fi

npx tsc -b
npm run build -w web --silent
node scripts/bundle.js
