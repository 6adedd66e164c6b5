import type { Btf } from './btf';

/** A kernel function BPF programs may call (a kfunc), as BTF declares it: its C types spelled out, no declaration formatting. */
export interface Kfunc {
  name: string;
  /** The FUNC's type id in the BTF it came from. */
  btfId: number;
  /** 'struct task_struct *'. */
  returnType: string;
  /** A variadic kfunc ends with { type: '...', name: '' }. */
  params: { type: string; name: string }[];
}

const KFUNC_TAG = 'bpf_kfunc';

function kfuncOf(btf: Btf, funcId: number): Kfunc | undefined {
  const func = btf.typeById(funcId);
  if (func?.kind !== 'FUNC') return undefined;
  const proto = btf.typeById(func.type);
  if (proto?.kind !== 'FUNC_PROTO') return undefined;
  const params = proto.params.map((p) => (p.type === 0 && p.name === '' ? { type: '...', name: '' } : { type: btf.typeName(p.type), name: p.name }));
  return { name: func.name, btfId: func.id, returnType: btf.typeName(proto.returnType), params };
}

/** The kfuncs a BTF declares: FUNCs with a DECL_TAG "bpf_kfunc" on the function itself. Sorted by name. */
export function listKfuncs(btf: Btf): Kfunc[] {
  const seen = new Set<number>();
  const kfuncs: Kfunc[] = [];
  for (const type of btf.types) {
    if (type.kind !== 'DECL_TAG' || type.name !== KFUNC_TAG || type.componentIndex !== -1 || seen.has(type.type)) continue;
    seen.add(type.type);
    const kfunc = kfuncOf(btf, type.type);
    if (kfunc) kfuncs.push(kfunc);
  }
  return kfuncs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
