import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentClient } from '@ebpf-studio/remote-agent';
import { withCharacterColumns } from './clang-columns';
import { compileDatabaseFlags, type DatabaseFlags } from './compile-database';
import { parseClangDiagnostics, type ClangDiagnostic } from './clang-diagnostics';
import { EngineError } from './engine-error';
import { vmlinuxFor, type VmlinuxMode } from './vmlinux';

export interface CompileOptions {
  /** clang binary (default `clang`; `clang-19` from apt also works). */
  clang?: string;
  /** Extra flags after the defaults (-O2 -g -target bpf). */
  flags?: readonly string[];
  includePaths?: readonly string[];
  /** NAME or NAME=VALUE */
  defines?: readonly string[];
  timeoutMs?: number;
  /**
   * A vmlinux.h for this machine's kernel (generated from its BTF once per kernel build) on the include
   * path, after the others: 'auto' (the default) when the text includes vmlinux.h, 'on' always, 'off'
   * never. Only for a local compile: a node's build uses the node's headers.
   */
  vmlinux?: VmlinuxMode;
}

export interface CompileResult {
  object?: Buffer;
  diagnostics: ClangDiagnostic[];
  unlocated: { message: string; functionName?: string; severity: 'error' | 'warning' | 'information' }[];
  /** The argument vector clang ran with (stdin carried the text). */
  argv: string[];
  /** Every header the text included (absolute paths), from clang's dependency output. */
  dependencies: string[];
  ms: number;
}

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const TARGET_ARCH: Record<string, string> = { x64: 'x86', arm64: 'arm64' };
export const DEFAULT_CLANG_TIMEOUT_MS = 20_000;
let nextDepFile = 0;

/** Parse (and remove) a make-style dependency file: the headers, without the main file. */
function readDependencies(depFile: string, mainFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(depFile, 'utf8');
  } catch {
    return [];
  } finally {
    rmSync(depFile, { force: true });
  }
  const body = text.replace(/\\\n/g, ' ').replace(/^[^:]*:/, '');
  return [...new Set(body.split(/\s+/).filter((p) => p !== '' && p !== '-' && p !== mainFile).map((p) => resolve(p)))];
}

/** The flags every compile gets: what `clang -O2 -g -target bpf` needs on a Debian/Ubuntu machine. */
export function baseFlags(): string[] {
  const flags = ['-O2', '-g', '-target', 'bpf'];
  const multiarch = MULTIARCH[process.arch];
  if (multiarch && existsSync(`/usr/include/${multiarch}`)) flags.push(`-I/usr/include/${multiarch}`);
  const arch = TARGET_ARCH[process.arch];
  if (arch) flags.push(`-D__TARGET_ARCH_${arch}`);
  return flags;
}

/**
 * clang's arguments for compiling `file` from stdin: the base flags, then the build's own flags for it from
 * the nearest compile_commands.json (see compile-database.ts), then the settings' include paths, defines
 * and flags (their -D come last and win).
 */
export function compileArgs(file: string, options: CompileOptions, depFile?: string, database: DatabaseFlags | undefined = compileDatabaseFlags(file)): string[] {
  const dir = dirname(resolve(file));
  return [
    ...(depFile ? ['-MD', '-MF', depFile] : []),
    ...baseFlags(),
    ...(database?.flags ?? []),
    ...(options.includePaths ?? []).map((p) => `-I${p}`),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...(options.flags ?? []),
    '-iquote',
    dir,
    '-fno-color-diagnostics',
    '-fdiagnostics-print-source-range-info',
    '-x',
    'c',
    '-',
    '-c',
    '-o',
    '-',
  ];
}

/**
 * Compile BPF C text (the editor's in-memory buffer or a file's content) as if it were `file`: a line
 * marker names the file so diagnostics and BTF line info carry its path, and -iquote keeps its quoted
 * includes resolving. The object comes back in memory; nothing is written to disk.
 */
export async function compileSource(text: string, file: string, options: CompileOptions = {}): Promise<CompileResult> {
  const clang = options.clang ?? 'clang';
  const depFile = resolve(tmpdir(), `ebpf-studio-deps-${process.pid}-${nextDepFile++}.d`);
  const vmlinuxDir = await vmlinuxFor(options.vmlinux ?? 'auto', text);
  const database = compileDatabaseFlags(file);
  const argv = compileArgs(file, vmlinuxDir ? { ...options, includePaths: [...(options.includePaths ?? []), vmlinuxDir] } : options, depFile, database);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLANG_TIMEOUT_MS;
  const start = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(clang, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (err.length < 4 * 1024 * 1024) err += s;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      rmSync(depFile, { force: true });
      if (e.code === 'ENOENT') {
        reject(new EngineError(`clang not found (${clang})`, 'install it: `apt-get install clang` (or set the clang path; clang 14 or newer)'));
      } else reject(new EngineError(`could not run ${clang}: ${e.message}`));
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      if (timedOut) {
        rmSync(depFile, { force: true });
        reject(new EngineError(`clang did not finish within ${timeoutMs} ms and was stopped`, 'simplify the file or raise the clang timeout'));
        return;
      }
      const dependencies = [...readDependencies(depFile, resolve(file)), ...(database ? [database.database] : [])];
      const parsed = parseClangDiagnostics(err);
      const object = code === 0 ? Buffer.concat(out) : undefined;
      resolvePromise({ ...(object ? { object } : {}), diagnostics: withCharacterColumns(parsed.diagnostics, resolve(file), text, 'read'), unlocated: parsed.unlocated, argv, dependencies, ms });
    });
    child.stdin.end(`# 1 "${resolve(file).replace(/["\\]/g, '\\$&')}"\n${text}`);
  });
}

/**
 * Compile with the node's own clang through its agent (`agent/build`): for nodes whose headers or clang
 * differ from this machine's. Quoted includes must exist on the node; the text travels in JSON-RPC.
 */
export async function compileOnAgent(text: string, file: string, options: CompileOptions, agent: AgentClient): Promise<CompileResult> {
  const args = [
    ...baseFlags(),
    ...(options.includePaths ?? []).map((p) => `-I${p}`),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...(options.flags ?? []),
    '-fno-color-diagnostics',
    '-fdiagnostics-print-source-range-info',
  ];
  const start = performance.now();
  const built = await agent.build({ text, file: resolve(file), args, ...(options.clang ? { clang: options.clang } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  const parsed = parseClangDiagnostics(built.stderr);
  return {
    ...(built.object ? { object: Buffer.from(built.object, 'base64') } : {}),
    // the node's headers are not here: only the compiled text's own lines are converted
    diagnostics: withCharacterColumns(parsed.diagnostics, resolve(file), text, 'keep'),
    unlocated: parsed.unlocated,
    argv: args,
    dependencies: [],
    ms: performance.now() - start,
  };
}
