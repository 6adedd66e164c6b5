/**
 * A service's number in the maps when the file gives none: FNV-1a (32-bit) of its name, so it stays the
 * same when services are added, removed or reordered (counters and backends keep their keys). Never 0.
 */
export function serviceIdOf(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash === 0 ? 1 : hash;
}
