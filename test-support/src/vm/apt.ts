import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchProfile, VmArch } from './arch';
import { haveCommand, run } from './exec';

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** The machine's side of the harness for one guest architecture: Debian packages installed with apt, nothing else. */
function hostPackages(profile: ArchProfile): string[] {
  return [profile.qemuPackage, 'qemu-utils', 'debootstrap'];
}

/** Installs QEMU for the guest's architecture, qemu-img and debootstrap with apt when one of their commands is missing. */
export async function ensureHostPackages(profile: ArchProfile, logFile: string): Promise<void> {
  const present = await Promise.all([profile.qemu, 'qemu-img', 'debootstrap'].map(haveCommand));
  if (present.every(Boolean)) return;
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...hostPackages(profile)];
  try {
    await run('apt-get', install, { env: APT_ENV, logFile, contained: true });
  } catch {
    await run('apt-get', ['update'], { env: APT_ENV, logFile });
    await run('apt-get', install, { env: APT_ENV, logFile, contained: true });
  }
}

/**
 * How apt is asked about the guest's packages: `-o` options put before apt-get's and apt-cache's
 * arguments. None for the machine's own architecture; for another, a private apt state (`foreign-apt.ts`).
 */
export interface AptView {
  readonly arch: VmArch;
  readonly options: readonly string[];
}

export interface KernelPackage {
  /** e.g. `linux-image-6.1.0-56-cloud-amd64-unsigned`. */
  readonly name: string;
  /** The Debian version apt would install, e.g. `6.1.192-2`. */
  readonly version: string;
}

function kernelName(arch: VmArch): RegExp {
  return new RegExp(`^linux-image-6\\.1\\.0-(\\d+)-cloud-${arch}-unsigned$`);
}

/** The newest `linux-image-6.1.*-cloud-<arch>-unsigned` that apt has a candidate for, by ABI number. */
export async function resolveKernelPackage(apt: AptView): Promise<KernelPackage> {
  const pattern = kernelName(apt.arch);
  const abi = (name: string): number => Number(pattern.exec(name)?.[1] ?? 0);
  const { stdout } = await run('apt-cache', [...apt.options, 'pkgnames', 'linux-image-6.1.0-']);
  const names = stdout
    .split('\n')
    .filter((name) => pattern.test(name))
    .sort((a, b) => abi(b) - abi(a));
  for (const name of names) {
    const version = await candidateVersion(apt, name);
    if (version !== undefined) return { name, version };
  }
  throw new Error(`apt knows no installable linux-image-6.1.0-*-cloud-${apt.arch}-unsigned (run apt-get update)`);
}

async function candidateVersion(apt: AptView, name: string): Promise<string | undefined> {
  const { stdout } = await run('apt-cache', [...apt.options, 'policy', name]);
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(stdout)?.[1];
  return candidate === undefined || candidate === '(none)' ? undefined : candidate;
}

/** Downloads one exact package version into `dir` with apt (which checks it against the signed lists); returns the .deb's path. */
export async function downloadPackage(apt: AptView, pkg: KernelPackage, dir: string, logFile: string): Promise<string> {
  await run('apt-get', [...apt.options, 'download', `${pkg.name}=${pkg.version}`], { cwd: dir, env: APT_ENV, logFile, contained: true });
  const deb = readdirSync(dir).find((file) => file.startsWith(`${pkg.name}_`) && file.endsWith('.deb'));
  if (deb === undefined) throw new Error(`apt-get download left no ${pkg.name} .deb in ${dir}`);
  return join(dir, deb);
}
