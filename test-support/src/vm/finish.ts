import type { GuestFile, Recipe } from './recipe';
import { shellQuote } from './ssh';

/** The build's own files in the root file system; the finish script removes them. */
export const BUILD_DIR = '/ebst-build';
export const FINISH_SCRIPT = `${BUILD_DIR}/finish`;
const PACKAGES_BEGIN = 'EBST_PACKAGES_BEGIN';
const PACKAGES_END = 'EBST_PACKAGES_END';

/** Where a recipe file waits in the root file system until the finish script installs it. */
export function stagedPath(file: GuestFile): string {
  return `${BUILD_DIR}/files${file.path}`;
}

/**
 * The recipe's last steps as one POSIX sh script that runs inside the guest's root file system after
 * debootstrap — in a chroot on this machine (amd64) or in the booted arm64 guest, so both architectures
 * get the same steps: the kernel modules' depmod indexes, the host keys made by openssh-server's postinst
 * removed and the recipe's files installed, networkd enabled and the noisy timers masked, package caches
 * emptied, the build's files removed; then it prints every installed package with its version.
 */
export function finishScript(recipe: Recipe, kernelRelease: string): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    `depmod -a ${shellQuote(kernelRelease)}`,
    'rm -f /etc/ssh/ssh_host_*',
    ...recipe.files.map((f) => `install -D -m ${f.mode.toString(8)} ${shellQuote(stagedPath(f))} ${shellQuote(f.path)}`),
    'chmod 700 /root/.ssh',
    'systemctl enable systemd-networkd.service',
    `systemctl mask ${recipe.maskedUnits.map(shellQuote).join(' ')}`,
    'find /var/cache/apt/archives /var/lib/apt/lists -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +',
    `rm -rf ${BUILD_DIR}`,
    `echo ${PACKAGES_BEGIN}`,
    `dpkg-query -W -f '\${Package} \${Version}\\n'`,
    `echo ${PACKAGES_END}`,
    '',
  ].join('\n');
}

/** `name version` of every package, from the finish script's output (a chroot's stdout or a serial console). */
export function packagesFrom(output: string): string[] {
  const lines = output.split(/\r?\n/).map((line) => line.trim());
  const begin = lines.indexOf(PACKAGES_BEGIN);
  const end = lines.indexOf(PACKAGES_END, begin + 1);
  if (begin < 0 || end < 0) throw new Error('the finish script did not print the package list');
  return lines.slice(begin + 1, end).filter((line) => /^\S+ \S+$/.test(line));
}
