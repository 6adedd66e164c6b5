import { readFileSync } from 'node:fs';
import { listKfuncs, type Kfunc } from '../btf/kfuncs';
import { parseBtf } from '../btf/parse-btf';
import { BpfError } from '../errors';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** What a kernel's BTF says about kfuncs. */
export interface KernelKfuncs {
  /** false: the kernel has no BTF, so no program can call a kfunc on it (kfuncs is empty). */
  btf: boolean;
  kfuncs: Kfunc[];
}

/**
 * The kfuncs of the running kernel, from its BTF (a fixed path: nothing else is read). A kernel without
 * BTF has none; BTF that is there but cannot be read or parsed throws, since then they are unknown.
 */
export function readKernelKfuncs(path = VMLINUX_BTF): KernelKfuncs {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { btf: false, kfuncs: [] };
    throw new BpfError(`cannot read the kernel's BTF (${path}): ${(err as Error).message}`, 'make /sys/kernel/btf/vmlinux readable (it is 0444 on a normal kernel)');
  }
  const { btf, problems } = parseBtf(bytes);
  if (btf === undefined) throw new BpfError(`the kernel's BTF (${path}) cannot be parsed: ${problems.map((p) => p.message).join('; ')}`);
  return { btf: true, kfuncs: listKfuncs(btf) };
}
