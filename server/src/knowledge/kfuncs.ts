import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { parseBtf, type Btf } from '@ebpf-studio/libbpf-ts';
import { declare } from './c-declaration';

/** A kernel function BPF programs may call (a kfunc), as the kernel's BTF declares it. */
export interface KfuncDoc {
  name: string;
  /** The FUNC's type id in the BTF it came from. */
  btfId: number;
  /** C prototype: 'struct task_struct *bpf_task_acquire(struct task_struct *p)'. */
  signature: string;
  returnType: string;
  /** A variadic kfunc ends with { type: '...', name: '' }. */
  params: { type: string; name: string }[];
}

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const KFUNC_TAG = 'bpf_kfunc';

function kfuncOf(btf: Btf, funcId: number): KfuncDoc | undefined {
  const func = btf.typeById(funcId);
  if (func?.kind !== 'FUNC') return undefined;
  const proto = btf.typeById(func.type);
  if (proto?.kind !== 'FUNC_PROTO') return undefined;
  const returnType = btf.typeName(proto.returnType);
  const params = proto.params.map((p) => (p.type === 0 && p.name === '' ? { type: '...', name: '' } : { type: btf.typeName(p.type), name: p.name }));
  const list = params.map((p) => declare(p.type, p.name)).join(', ') || 'void';
  return { name: func.name, btfId: func.id, signature: `${declare(returnType, func.name)}(${list})`, returnType, params };
}

/** The kfuncs a raw .BTF blob declares: FUNCs with a DECL_TAG "bpf_kfunc" on the function itself. Sorted by name. */
export function kfuncsFromBtf(bytes: Uint8Array): KfuncDoc[] {
  const { btf } = parseBtf(bytes);
  if (btf === undefined) return [];
  const seen = new Set<number>();
  const kfuncs: KfuncDoc[] = [];
  for (const type of btf.types) {
    if (type.kind !== 'DECL_TAG' || type.name !== KFUNC_TAG || type.componentIndex !== -1 || seen.has(type.type)) continue;
    seen.add(type.type);
    const kfunc = kfuncOf(btf, type.type);
    if (kfunc) kfuncs.push(kfunc);
  }
  return kfuncs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
    try {
      kfuncs = kfuncsFromBtf(readFileSync(options.btfPath ?? VMLINUX_BTF));
    } catch {
      return [];
    }
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
