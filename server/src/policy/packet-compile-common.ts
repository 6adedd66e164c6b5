import { UsageError } from '../engine/usage-error';
import type { MapEntryBytes } from './compile-policy';

/**
 * What the packet templates' compilers share: stable slot numbers in array maps (a name keeps the slot
 * it has in the running map, new names take the lowest free ones) and rings swapped per apply (a VIP or
 * service owns the pair of rings 2i and 2i+1 and flips to the other one, so a ring is never rewritten
 * while packets read it).
 */

/** The current entries of the maps a compiler reads, by map name (empty: nothing loaded yet). */
export type CurrentEntries = ReadonlyMap<string, readonly MapEntryBytes[]>;

export const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function u32At(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

/** `wanted` names → slots below `capacity`: the slot each has in `current`, else the lowest free one. */
export function assignSlots(wanted: readonly string[], current: ReadonlyMap<string, number>, capacity: number, what: string): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const name of wanted) {
    const slot = current.get(name);
    if (slot !== undefined && slot < capacity && !used.has(slot)) {
      out.set(name, slot);
      used.add(slot);
    }
  }
  let next = 0;
  for (const name of wanted) {
    if (out.has(name)) continue;
    while (used.has(next)) next++;
    if (next >= capacity) throw new UsageError(`more than ${capacity} ${what}: the template's map has no room for ${name}`);
    out.set(name, next);
    used.add(next);
  }
  return out;
}

/** The ring a pair's owner moves to: the other ring of its pair (2i, 2i+1), the first one when it had none. */
export function nextRing(pair: number, currentRing: number | undefined): number {
  return currentRing === 2 * pair ? 2 * pair + 1 : 2 * pair;
}

/** How many rings of `ringSize` entries a rings map of `entries` holds; throws when `pairs` pairs do not fit. */
export function checkRings(entries: number, ringSize: number, pairs: number, parameter: string): void {
  const rings = Math.floor(entries / ringSize);
  if (2 * pairs > rings) {
    throw new UsageError(
      `${pairs} rings pairs of ${ringSize} entries do not fit in ${entries} entries (${rings} rings)`,
      `lower ${parameter} (a prime) or the number of services`,
    );
  }
}

/** A ring's entries: `table[slot]` at `ring × ringSize + slot`. */
export function ringEntries(ring: number, table: Uint32Array): MapEntryBytes[] {
  return Array.from(table, (id, slot) => {
    const key = new Uint8Array(4);
    const value = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, ring * table.length + slot, true);
    new DataView(value.buffer).setUint32(0, id, true);
    return { key, value };
  });
}
