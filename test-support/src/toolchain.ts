import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tempDirs = new Set<string>();

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'ebpf-studio-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (tempDirs.size === 0) process.once('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  tempDirs.add(dir);
  return dir;
}

export const BPF_CFLAGS = ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu'];

/** Compile a BPF C file with clang into outDir; returns the object path. */
export function compileBpf(source: string, outDir: string, extraFlags: string[] = []): string {
  const base = source.replace(/^.*\//, '').replace(/\.c$/, '');
  const out = join(outDir, `${base}.o`);
  execFileSync('clang', [...BPF_CFLAGS, ...extraFlags, '-c', source, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** Run a command (argument array, no shell) and return its stdout. */
export function runCommand(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}
