import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { haveCommand, run } from './exec';

/** The machine's side of the harness: Debian packages installed with apt, nothing else. */
export const HOST_PACKAGES = ['qemu-system-x86', 'qemu-utils', 'debootstrap'] as const;
const HOST_COMMANDS = ['qemu-system-x86_64', 'qemu-img', 'debootstrap'] as const;
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** Installs qemu and debootstrap with apt when one of their commands is missing. */
export async function ensureHostPackages(logFile: string): Promise<void> {
  const present = await Promise.all(HOST_COMMANDS.map(haveCommand));
  if (present.every(Boolean)) return;
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', ...HOST_PACKAGES];
  try {
    await run('apt-get', install, { env: APT_ENV, logFile, contained: true });
  } catch {
    await run('apt-get', ['update'], { env: APT_ENV, logFile });
    await run('apt-get', install, { env: APT_ENV, logFile, contained: true });
  }
}

export interface KernelPackage {
  /** e.g. `linux-image-6.1.0-56-cloud-amd64-unsigned`. */
  readonly name: string;
  /** The Debian version apt would install, e.g. `6.1.192-2`. */
  readonly version: string;
}

const KERNEL_NAME = /^linux-image-6\.1\.0-(\d+)-cloud-amd64-unsigned$/;

/** The newest `linux-image-6.1.*-cloud-amd64-unsigned` that apt has a candidate for, by ABI number. */
export async function resolveKernelPackage(): Promise<KernelPackage> {
  const { stdout } = await run('apt-cache', ['pkgnames', 'linux-image-6.1.0-']);
  const names = stdout
    .split('\n')
    .filter((name) => KERNEL_NAME.test(name))
    .sort((a, b) => abi(b) - abi(a));
  for (const name of names) {
    const version = await candidateVersion(name);
    if (version !== undefined) return { name, version };
  }
  throw new Error('apt knows no installable linux-image-6.1.0-*-cloud-amd64-unsigned (run apt-get update)');
}

function abi(name: string): number {
  return Number(KERNEL_NAME.exec(name)?.[1] ?? 0);
}

async function candidateVersion(name: string): Promise<string | undefined> {
  const { stdout } = await run('apt-cache', ['policy', name]);
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(stdout)?.[1];
  return candidate === undefined || candidate === '(none)' ? undefined : candidate;
}

/** Downloads one exact package version into `dir` with apt; returns the .deb's path. */
export async function downloadPackage(pkg: KernelPackage, dir: string, logFile: string): Promise<string> {
  await run('apt-get', ['download', `${pkg.name}=${pkg.version}`], { cwd: dir, env: APT_ENV, logFile, contained: true });
  const deb = readdirSync(dir).find((file) => file.startsWith(`${pkg.name}_`) && file.endsWith('.deb'));
  if (deb === undefined) throw new Error(`apt-get download left no ${pkg.name} .deb in ${dir}`);
  return join(dir, deb);
}

const SOURCES_DIR = '/etc/apt/sources.list.d';

/** The Debian mirror the machine's apt sources use for `suite` (deb822 .sources or one-line .list). */
export function debianMirror(suite: string): string {
  const files = ['/etc/apt/sources.list', ...(existsSync(SOURCES_DIR) ? readdirSync(SOURCES_DIR).map((f) => join(SOURCES_DIR, f)) : [])];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const mirror = file.endsWith('.sources') ? fromDeb822(text, suite) : file.endsWith('.list') ? fromOneLine(text, suite) : undefined;
    if (mirror !== undefined) return mirror;
  }
  throw new Error(`no apt source for ${suite} main in /etc/apt/sources.list{,.d}`);
}

function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string[] =>
      (new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1] ?? '').split(/\s+/).filter((s) => s !== '');
    if (!field('Types').includes('deb') || /^Enabled:\s*no/mi.test(stanza)) continue;
    if (field('Suites').includes(suite) && field('Components').includes('main')) return field('URIs')[0];
  }
  return undefined;
}

function fromOneLine(text: string, suite: string): string | undefined {
  for (const line of text.split('\n')) {
    const words = line.replace(/\[[^\]]*\]/, '').trim().split(/\s+/);
    if (words[0] === 'deb' && words[2] === suite && words.slice(3).includes('main')) return words[1];
  }
  return undefined;
}
