import type { CompiledPolicy, MapEntryBytes } from './compile-policy';

/** One write to a running map. */
export type MapOp =
  | { readonly op: 'update'; readonly map: string; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: 'delete'; readonly map: string; readonly key: Uint8Array };

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * The writes that turn the policy maps' current entries into `compiled`: every compiled entry in the
 * order of `compiled.maps`, then the stale keys in the reverse order (deleted, or zeroed for array
 * slots). Each compiler orders its maps so that a packet or connect in between never meets a reference
 * to something missing: clusterset-socket-lb writes backends, then services, and deletes services that
 * are gone before their backends.
 */
export function planWrites(compiled: Pick<CompiledPolicy, 'maps'>, current: ReadonlyMap<string, readonly MapEntryBytes[]>): MapOp[] {
  const ops: MapOp[] = [];
  for (const m of compiled.maps) for (const e of m.entries) ops.push({ op: 'update', map: m.map, key: e.key, value: e.value });
  for (const m of [...compiled.maps].reverse()) {
    const stale = m.stale ?? 'delete';
    if (stale === 'keep') continue;
    const wanted = new Set(m.entries.map((e) => hex(e.key)));
    for (const e of current.get(m.map) ?? []) {
      if (wanted.has(hex(e.key))) continue;
      if (stale === 'delete') ops.push({ op: 'delete', map: m.map, key: e.key });
      else if (e.value.some((b) => b !== 0)) ops.push({ op: 'update', map: m.map, key: e.key, value: new Uint8Array(e.value.length) });
    }
  }
  return ops;
}

/** planWrites for maps whose current keys alone are known (hash maps: stale keys are deleted). */
export function planApply(compiled: Pick<CompiledPolicy, 'maps'>, currentKeys: ReadonlyMap<string, readonly Uint8Array[]>): MapOp[] {
  const current = new Map([...currentKeys].map(([map, keys]) => [map, keys.map((key) => ({ key, value: new Uint8Array(0) }))]));
  return planWrites(compiled, current);
}
