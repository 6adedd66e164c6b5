/**
 * Maglev consistent hashing (Eisenbud et al., NSDI '16) with weights: the lookup table the
 * xdp-maglev-gateway and tc-cluster-nat templates index with a flow's hash.
 *
 * Each backend walks its own permutation of the table's slots (offset and skip from two hashes of its
 * id, the table size a prime so every skip visits every slot) and claims the next free slot of its
 * permutation when its turn comes. Turns are paid in weight: every round each backend earns its
 * weight in credit and takes a slot per `maxWeight` of credit, so a backend's share of the table is its
 * share of the total weight. Bounds (asserted by the tests):
 *   - balance: |slots(b) − size·w(b)/W| ≤ 1 + N·w(b)/W (N backends, W the total weight);
 *   - disruption: removing a backend moves every slot it held and, as the paper measures, only a small
 *     fraction of the others (permutations of the remaining backends are unchanged; a slot changes
 *     owner only when an earlier claim of the removed backend no longer blocks someone's preference).
 */

export interface MaglevBackend {
  /** A stable id (u32): the value the table holds, and the seed of the backend's permutation. */
  id: number;
  /** Non-negative; 0 leaves the backend out of the table. */
  weight: number;
}

/** What every slot holds when no backend has weight: the templates drop such flows. */
export const MAGLEV_NO_BACKEND = 0xffffffff;

/** The smallest prime above 2^16, the paper's table size for small backend pools. */
export const MAGLEV_DEFAULT_SIZE = 65537;

const OFFSET_SEED = 0x5bd1e995;
const SKIP_SEED = 0x27d4eb2f;
/** murmur3's seed for the templates' flow hash (FLOW_HASH_SEED in their headers). */
const FLOW_SEED = 0x0c1a55e7;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = rotl(k, 15);
  k = Math.imul(k, 0x1b873593);
  const x = rotl((h ^ k) >>> 0, 13);
  return (Math.imul(x, 5) + 0xe6546b64) >>> 0;
}

function finish(h: number, length: number): number {
  let x = (h ^ length) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** murmur3_x86_32 of 32-bit words (each word as one 4-byte block). */
function murmurWords(words: ArrayLike<number>, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < words.length; i++) h = mixWord(h, words[i]! >>> 0);
  return finish(h, words.length * 4);
}

/**
 * The hash the templates compute over a flow key (`flow_hash()` in their headers): murmur3 of the key's
 * bytes read as little-endian 32-bit words, i.e. as the BPF program loads them on x86-64 and arm64.
 */
export function flowHash(key: Uint8Array): number {
  if (key.length % 4 !== 0) throw new RangeError(`a flow key is whole 32-bit words, got ${key.length} bytes`);
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const words = Array.from({ length: key.length / 4 }, (_, i) => view.getUint32(i * 4, true));
  return murmurWords(words, FLOW_SEED);
}

function checkBackends(backends: readonly MaglevBackend[]): void {
  const seen = new Set<number>();
  for (const b of backends) {
    if (!Number.isInteger(b.id) || b.id < 0 || b.id >= MAGLEV_NO_BACKEND) throw new RangeError(`backend id ${b.id} is not a u32 below 0xffffffff`);
    if (!Number.isFinite(b.weight) || b.weight < 0) throw new RangeError(`backend ${b.id}: weight ${b.weight} is not a finite non-negative number`);
    if (seen.has(b.id)) throw new RangeError(`backend id ${b.id} appears twice`);
    seen.add(b.id);
  }
}

/**
 * The weighted Maglev lookup table: `size` slots (a prime), each holding a backend id, every slot filled.
 * Deterministic in (backends, size): the same policy gives the same table on every node.
 */
export function buildMaglevTable(backends: readonly MaglevBackend[], size: number = MAGLEV_DEFAULT_SIZE): Uint32Array {
  if (!isPrime(size)) throw new RangeError(`the Maglev table size must be a prime, got ${size}`);
  checkBackends(backends);
  const table = new Uint32Array(size).fill(MAGLEV_NO_BACKEND);
  // Ordered by id so the table does not depend on the order the policy lists its backends in.
  const active = backends.filter((b) => b.weight > 0).sort((a, b) => a.id - b.id);
  if (active.length === 0) return table;
  const maxWeight = Math.max(...active.map((b) => b.weight));
  const next = active.map((b) => murmurWords([b.id], OFFSET_SEED) % size);
  const skip = active.map((b) => (murmurWords([b.id], SKIP_SEED) % (size - 1)) + 1);
  const credit = active.map(() => 0);
  let filled = 0;
  for (;;) {
    for (let i = 0; i < active.length; i++) {
      credit[i]! += active[i]!.weight;
      if (credit[i]! < maxWeight) continue;
      credit[i]! -= maxWeight;
      let slot = next[i]!;
      while (table[slot] !== MAGLEV_NO_BACKEND) slot = (slot + skip[i]!) % size;
      table[slot] = active[i]!.id;
      next[i] = (slot + skip[i]!) % size;
      filled += 1;
      if (filled === size) return table;
    }
  }
}

/** How many slots each backend id holds. */
export function slotCounts(table: Uint32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of table) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
