import type { ParsedLog } from '@ebpf-studio/libbpf-ts';
import { failingPath } from './failing-path';

/** Map helpers and the register that carries the key (R2) or the value (R3) they read whole. */
const MAP_HELPERS = /^call (bpf_map_(?:lookup|update|delete|lookup_and_delete)_elem|bpf_map_push_elem)#/;
const STACK_READ = /invalid (?:indirect )?read from stack R([23]) off[= ](-?\d+)(?:\+\d+)? size[= ](\d+)/;

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
 * come from R1's state on the failing path (`R1=map_ptr(map=by_cookie,ks=8,vs=8)`).
 */
export function mapArgumentTooSmall(log: ParsedLog | undefined): MapArgumentTooSmall | undefined {
  const read = STACK_READ.exec(log?.error ?? '');
  const helper = log?.failingInsn && MAP_HELPERS.exec(log.failingInsn.text)?.[1];
  if (!log || !read || !helper) return undefined;
  const what = read[1] === '2' ? 'key' : 'value';
  const size = Number(read[3]);
  for (const record of failingPath(log.tail)) {
    const map = /\bR1(?:_w)?=map_ptr\(map=(\w+),ks=(\d+),vs=(\d+)/.exec(record.state ?? '');
    if (!map) continue;
    return Number(what === 'key' ? map[2] : map[3]) === size ? { helper, map: map[1]!, what, size } : undefined;
  }
  return undefined;
}

/** Why and how to fix a key or value variable smaller than the map's. */
export function mapArgumentAdvice(found: MapArgumentTooSmall): { explanation: string; fix: string } {
  const { helper, map, what, size } = found;
  return {
    explanation: `${helper}() reads the whole ${what} of map ${map}, ${size} bytes, from the pointer it is given, but fewer bytes of the stack there were written: the variable is smaller than the map's ${what} (a __u32 for a __u64, say) or a struct with holes left unset.`,
    fix: `Declare the ${what} with the map's own ${what} type (${size} bytes) and pass its address, e.g. \`__u64 ${what} = skb->ifindex;\`; for a struct, zero it first (\`struct flow_key ${what} = {};\`) and then fill in the fields.`,
  };
}
