import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { listKfuncs, parseBtf, readKernelKfuncs, type Kfunc, type KernelKfuncs } from '@ebpf-studio/libbpf-ts';
import { declare } from './c-declaration';

/** A kfunc as the editor shows it: libbpf-ts's Kfunc with its C prototype. */
export interface KfuncDoc extends Kfunc {
  /** C prototype: 'struct task_struct *bpf_task_acquire(struct task_struct *p)'. */
  signature: string;
}

/** Adds the C prototype to a kfunc (this machine's or one a node's agent listed). */
export function kfuncDoc(kfunc: Kfunc): KfuncDoc {
  const list = kfunc.params.map((p) => declare(p.type, p.name)).join(', ') || 'void';
  return { ...kfunc, signature: `${declare(kfunc.returnType, kfunc.name)}(${list})` };
}

/** The kfuncs a raw .BTF blob declares (see libbpf-ts's listKfuncs), sorted by name; none when it cannot be parsed. */
export function kfuncsFromBtf(bytes: Uint8Array): KfuncDoc[] {
  const { btf } = parseBtf(bytes);
  return btf === undefined ? [] : listKfuncs(btf).map(kfuncDoc);
}

export interface KernelKfuncsOptions {
  /** Kernel release the result is cached under; the running kernel's by default. */
  release?: string;
  /** Where that kernel's BTF is; /sys/kernel/btf/vmlinux by default. */
  btfPath?: string;
  /** A directory to keep results in across processes (kfuncs-<release>.json). */
  cacheDir?: string;
}

const memory = new Map<string, KfuncDoc[]>();

function readDiskCache(file: string): KfuncDoc[] | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? (parsed as KfuncDoc[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The kfuncs of a kernel (by default the running one), cached per kernel release in memory and,
 * with `cacheDir`, on disk. A kernel without BTF, or BTF that cannot be read, has none.
 */
export function kernelKfuncs(options: KernelKfuncsOptions = {}): KfuncDoc[] {
  const key = options.release ?? release();
  const hit = memory.get(key);
  if (hit) return hit;
  const dir = options.cacheDir;
  const file = dir === undefined ? undefined : join(dir, `kfuncs-${key.replace(/[^\w.+-]/g, '_')}.json`);
  let kfuncs = file === undefined ? undefined : readDiskCache(file);
  if (kfuncs === undefined) {
    let found: KernelKfuncs;
    try {
      found = readKernelKfuncs(options.btfPath);
    } catch {
      return [];
    }
    if (!found.btf) return [];
    kfuncs = found.kfuncs.map(kfuncDoc);
    if (dir !== undefined && file !== undefined) {
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, JSON.stringify(kfuncs));
      } catch {
        // A cache that cannot be written only costs the next process a parse.
      }
    }
  }
  memory.set(key, kfuncs);
  return kfuncs;
}
