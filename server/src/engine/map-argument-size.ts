import type { ParsedLog } from '@ebpf-studio/libbpf-ts';
import { failingPath } from './failing-path';

/** Helpers that read a map's whole key or value through a pointer: the register of the map and of each. */
const MAP_HELPERS: Readonly<Record<string, { map: number; reads: Readonly<Record<number, 'key' | 'value'>> }>> = {
  bpf_map_lookup_elem: { map: 1, reads: { 2: 'key' } },
  bpf_map_update_elem: { map: 1, reads: { 2: 'key', 3: 'value' } },
  bpf_map_delete_elem: { map: 1, reads: { 2: 'key' } },
  bpf_map_lookup_and_delete_elem: { map: 1, reads: { 2: 'key' } },
  bpf_map_push_elem: { map: 1, reads: { 2: 'value' } },
  bpf_msg_redirect_hash: { map: 2, reads: { 3: 'key' } },
  bpf_sk_redirect_hash: { map: 2, reads: { 3: 'key' } },
  bpf_sock_hash_update: { map: 2, reads: { 3: 'key' } },
  bpf_sock_map_update: { map: 2, reads: { 3: 'key' } },
  bpf_sk_select_reuseport: { map: 2, reads: { 3: 'key' } },
};
const STACK_READ = /invalid (?:indirect )?read from stack R(\d) off[= ]-?\d+(?:\+\d+)? size[= ](\d+)/;
const UNSIGNED_OF_SIZE: Readonly<Record<number, string>> = { 1: '__u8', 2: '__u16', 4: '__u32', 8: '__u64' };

/** The helpers that read a whole map key or value through a pointer argument. */
export const MAP_ARGUMENT_HELPERS: readonly string[] = Object.keys(MAP_HELPERS);

/** The register and size of a stack read the verifier refused (`invalid read from stack R2 off=-4 size=8`). */
export function stackRead(message: string): { register: number; size: number } | undefined {
  const m = STACK_READ.exec(message);
  return m ? { register: Number(m[1]), size: Number(m[2]) } : undefined;
}

/** The unsigned integer type of `size` bytes (`__u64` for 8), if there is one. */
export function unsignedOfSize(size: number): string | undefined {
  return UNSIGNED_OF_SIZE[size];
}

export interface MapArgumentTooSmall {
  helper: string;
  map: string;
  what: 'key' | 'value';
  /** The map's key or value size: what the helper reads from the pointer. */
  size: number;
}

/**
 * A map helper that reads a key or value larger than what the stack behind the pointer holds: the
 * variable is smaller than the map's key (a __u32 for a __u64 key) or partly unwritten. The map's sizes
 * come from its register's state on the failing path (`R1=map_ptr(map=by_cookie,ks=8,vs=8)`).
 */
export function mapArgumentTooSmall(log: ParsedLog | undefined): MapArgumentTooSmall | undefined {
  const read = stackRead(log?.error ?? '');
  const helper = log?.failingInsn && /^call (\w+)#/.exec(log.failingInsn.text)?.[1];
  const args = helper !== undefined ? MAP_HELPERS[helper] : undefined;
  const what = read && args?.reads[read.register];
  if (!log || !read || !helper || !args || !what) return undefined;
  const { size } = read;
  const mapState = new RegExp(`\\bR${args.map}(?:_w)?=map_ptr\\(map=(\\w+),ks=(\\d+),vs=(\\d+)`);
  for (const record of failingPath(log.tail)) {
    const map = mapState.exec(record.state ?? '');
    if (!map) continue;
    return Number(what === 'key' ? map[2] : map[3]) === size ? { helper, map: map[1]!, what, size } : undefined;
  }
  return undefined;
}

/**
 * Why and how to fix a key or value variable smaller than the map's. `declaredType`: the map definition's
 * `__type(key, ...)` (or value) when the source has it.
 */
export function mapArgumentAdvice(found: MapArgumentTooSmall, declaredType?: string): { explanation: string; fix: string } {
  const { helper, map, what, size } = found;
  const type = declaredType ?? unsignedOfSize(size);
  const declare = type
    ? `Declare the ${what} as \`${type}\`, the map's ${what} type (${size} bytes), and pass its address`
    : `Declare the ${what} with the map's own ${what} type (${size} bytes) and pass its address`;
  return {
    explanation: `${helper}() reads the whole ${what} of map ${map}, ${size} bytes, from the pointer it is given, but fewer bytes of the stack there were written: the variable is smaller than the map's ${what} (a __u32 for a __u64, say) or a struct with holes left unset.`,
    fix: `${declare}; zero a struct first (\`= {}\`) and then fill in its fields.`,
  };
}
