import type { CompiledPolicy } from './compile-policy';
import { LB_MAPS } from './socket-lb-layout';

/** One write to a running map. */
export type MapOp =
  | { readonly op: 'update'; readonly map: string; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly op: 'delete'; readonly map: string; readonly key: Uint8Array };

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * The writes that turn the policy maps' current keys into `compiled`, ordered so that a connect in
 * between never meets a service whose backends are missing: backends are written first, then services;
 * services that are gone are deleted before their backends.
 */
export function planApply(compiled: CompiledPolicy, currentKeys: ReadonlyMap<string, readonly Uint8Array[]>): MapOp[] {
  const updates = (map: string): MapOp[] => (compiled.maps.find((m) => m.map === map)?.entries ?? []).map((e) => ({ op: 'update', map, key: e.key, value: e.value }));
  const deletes = (map: string): MapOp[] => {
    const wanted = new Set((compiled.maps.find((m) => m.map === map)?.entries ?? []).map((e) => hex(e.key)));
    return (currentKeys.get(map) ?? []).filter((k) => !wanted.has(hex(k))).map((key) => ({ op: 'delete', map, key }));
  };
  return [...updates(LB_MAPS.backends), ...updates(LB_MAPS.services), ...deletes(LB_MAPS.services), ...deletes(LB_MAPS.backends)];
}
