import type { ArchProfile } from './arch';
import { run } from './exec';
import { BUILD_DIR, FINISH_SCRIPT, packagesFrom } from './finish';
import { qemuCommand } from './qemu';
import { writeGuestFile } from './rootfs';

const INIT = `${BUILD_DIR}/init`;
/** dpkg without its fsyncs during the build (`cache=unsafe` drops them at the disk anyway); removed before power-off. */
const UNSAFE_IO = '/etc/dpkg/dpkg.cfg.d/ebst-build-unsafe-io';
const DONE = 'EBST_SECOND_STAGE_DONE';
const TIMEOUT_MS = 30 * 60_000;
const LOG_TAIL_CHARS = 3000;

/**
 * PID 1 of the VM that finishes a foreign image: debootstrap's second stage and the finish script, run
 * by the guest's own kernel and CPU. It runs from a tmpfs copy and re-executes itself after the build, so
 * that nothing on the root file system is held open when the root is remounted read-only (a clean file
 * system): not the build's files, which the finish script removed, nor the first stage's shell and C
 * library, which dpkg replaced. Then the guest powers off. Any failure ends PID 1, which makes the kernel
 * panic and, with `panic=1` and `-no-reboot`, QEMU exit without the DONE line.
 */
function initScript(): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    'case "${1:-}" in',
    "'')",
    '  mount -t tmpfs -o mode=1777 tmpfs /tmp',
    `  cp ${INIT} /tmp/ebst-init`,
    '  exec /bin/sh /tmp/ebst-init build;;',
    'build)',
    '  /debootstrap/debootstrap --second-stage',
    `  /bin/sh ${FINISH_SCRIPT}`,
    `  rm ${UNSAFE_IO}`,
    '  exec /bin/sh /tmp/ebst-init poweroff;;',
    'poweroff)',
    '  mount -t proc proc /proc',
    '  fstrim /',
    '  sync',
    '  mount -o remount,ro /',
    `  echo ${DONE}`,
    '  echo o > /proc/sysrq-trigger',
    '  sleep 60;;',
    'esac',
    '',
  ].join('\n');
}

/** Puts the init of the second-stage VM into a first-stage root file system (before its image is made). */
export function stageSecondStage(rootfs: string): void {
  writeGuestFile(rootfs, INIT, initScript(), 0o755);
  writeGuestFile(rootfs, UNSAFE_IO, 'force-unsafe-io\n', 0o644);
}

/**
 * Boots `image` (raw, writable: the build's own temporary file) with the guest's kernel and the second-
 * stage init, without a network, and waits for the guest to power off; returns the installed packages.
 * `cache=unsafe`: dpkg's many fsyncs stay in this machine's page cache (a crash only loses this build);
 * `discard=unmap` with the init's `fstrim`: the blocks the build freed (the .debs) become holes again.
 * QEMU runs through `run`, so it dies with this process and the build's exit hooks.
 */
export async function runSecondStage(profile: ArchProfile, image: string, vmlinuz: string, logFile: string): Promise<string[]> {
  const [qemu, ...args] = qemuCommand(profile, {
    name: 'ebst-second-stage',
    memoryMiB: 1024,
    cpus: 2,
    vmlinuz,
    append: [`init=${INIT}`, 'loglevel=4'],
    drive: `file=${image},format=raw,if=none,id=d0,cache=unsafe,discard=unmap`,
    nic: 'none',
  });
  const { stdout } = await run(qemu!, args, { logFile, timeoutMs: TIMEOUT_MS });
  if (!stdout.includes(DONE)) {
    throw new Error(`the ${profile.arch} guest did not finish its root file system (log: ${logFile})\n${stdout.slice(-LOG_TAIL_CHARS)}`);
  }
  return packagesFrom(stdout);
}
