import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KernelPackage } from './apt';
import type { VmArch } from './arch';
import type { VmKeys } from './keys';

/** Bump when the build steps change in a way the fields below do not show. */
export const RECIPE_SCRIPT_VERSION = 2;

export const SUITE = 'bookworm';
/** minbase has no init, udev or kmod; Node.js is deliberately absent (issue 5 bootstraps it). */
export const GUEST_PACKAGES = ['openssh-server', 'iproute2', 'libbpf1', 'bpftool', 'ca-certificates', 'systemd-sysv', 'udev', 'kmod'] as const;
export const IMAGE_SIZE_BYTES = 1024 * 1024 * 1024;
export const GUEST_HOSTNAME = 'ebst-vm';
/** Timers that would start apt or e2scrub in an emulated guest in the middle of a test. */
const MASKED_UNITS = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer'] as const;

export interface GuestFile {
  /** Absolute path inside the guest. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface Recipe {
  readonly scriptVersion: number;
  /** Debian's name of the guest architecture. */
  readonly arch: VmArch;
  readonly suite: string;
  readonly variant: 'minbase';
  readonly packages: readonly string[];
  readonly kernel: KernelPackage;
  readonly imageSizeBytes: number;
  readonly maskedUnits: readonly string[];
  readonly files: readonly GuestFile[];
}

export function makeRecipe(arch: VmArch, kernel: KernelPackage, keys: VmKeys): Recipe {
  return {
    scriptVersion: RECIPE_SCRIPT_VERSION,
    arch,
    suite: SUITE,
    variant: 'minbase',
    packages: [...GUEST_PACKAGES],
    kernel,
    imageSizeBytes: IMAGE_SIZE_BYTES,
    maskedUnits: [...MASKED_UNITS],
    files: guestFiles(keys),
  };
}

/** The recipe as recorded in the manifest and hashed: file contents by digest (the host key is private). */
export interface RecipeDescription extends Omit<Recipe, 'files'> {
  readonly files: readonly { path: string; mode: string; sha256: string }[];
}

export function describeRecipe(recipe: Recipe): RecipeDescription {
  return { ...recipe, files: recipe.files.map((f) => ({ path: f.path, mode: f.mode.toString(8), sha256: sha256(f.content) })) };
}

/** The image's cache key: a hash of everything that goes into it (the keys are among the files). */
export function recipeKey(description: RecipeDescription): string {
  return sha256(JSON.stringify(description)).slice(0, 16);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function guestFiles(keys: VmKeys): GuestFile[] {
  return [
    { path: '/etc/hostname', content: `${GUEST_HOSTNAME}\n`, mode: 0o644 },
    { path: '/etc/hosts', content: `127.0.0.1 localhost\n127.0.1.1 ${GUEST_HOSTNAME}\n::1 localhost ip6-localhost ip6-loopback\n`, mode: 0o644 },
    { path: '/etc/fstab', content: '/dev/nvme0n1 / ext4 rw 0 0\n', mode: 0o644 },
    { path: '/etc/resolv.conf', content: 'nameserver 10.0.2.3\n', mode: 0o644 },
    {
      path: '/etc/systemd/network/20-en.network',
      content: '[Match]\nName=en*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n',
      mode: 0o644,
    },
    {
      path: '/etc/ssh/sshd_config.d/ebpf-studio.conf',
      content: [
        'HostKey /etc/ssh/ssh_host_ed25519_key',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UseDNS no',
        '',
      ].join('\n'),
      mode: 0o644,
    },
    { path: '/etc/ssh/ssh_host_ed25519_key', content: readFileSync(keys.hostKey, 'utf8'), mode: 0o600 },
    { path: '/etc/ssh/ssh_host_ed25519_key.pub', content: `${keys.hostPublicKey} root@${GUEST_HOSTNAME}\n`, mode: 0o644 },
    { path: '/root/.ssh/authorized_keys', content: `${keys.userPublicKey} ebpf-studio-vm-root\n`, mode: 0o600 },
  ];
}
