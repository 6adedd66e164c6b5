import type { TraceStartParams } from '@ebpf-studio/studio-protocol';
import { window, workspace, type QuickPickItem } from 'vscode';
import type { MapRef } from '../maps-panel';
import { listNodes } from '../node-picker';
import type { NodesElement } from '../nodes-tree';
import type { Studio } from '../studio';

const isSocketLb = (maps: readonly { name: string }[]): boolean => maps.some((m) => m.name === 'lb_stats');

interface Pick<T> extends QuickPickItem {
  value: T;
}

/** The map a Show Maps invocation means: the tree's map element, or one picked from every session's maps. */
export async function mapToShow(studio: Studio, element?: NodesElement): Promise<MapRef | undefined> {
  if (element?.kind === 'map') return { node: element.node, session: element.session.id, map: element.map.name, socketLb: isSocketLb(element.session.maps) };
  const nodes = await listNodes(studio);
  if (!nodes) return undefined;
  const items: Pick<MapRef>[] = nodes.flatMap((n) =>
    n.sessions.flatMap((s) => s.maps.map((m) => ({ value: { node: n.name, session: s.id, map: m.name, socketLb: isSocketLb(s.maps) }, label: m.name, description: `${m.type} · ${s.name} on ${n.name}` }))),
  );
  if (items.length === 0) {
    void window.showInformationMessage('No session holds a map: attach a program first ("eBPF: Attach…").');
    return undefined;
  }
  return (await window.showQuickPick(items, { title: 'Show Maps', matchOnDescription: true }))?.value;
}

/** The record types a source declares for its buffers: globals `const struct T *name __attribute__((unused));` put T into the object's BTF. */
const RECORD_TYPE = /^\s*(?:static\s+)?const\s+struct\s+(\w+)\s*\*\s*\w+\s+__attribute__\s*\(\(\s*unused\s*\)\)\s*;/gm;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The struct types the workspace's BPF sources declare as records of `map`: from the files that define
 * that map (and, when any does, the session's program too).
 */
export function recordTypesIn(sources: readonly string[], map: string, program: string): string[] {
  const definesMap = new RegExp(`}\\s*${escapeRegExp(map)}\\s+SEC\\(\\s*"\\.maps"\\s*\\)`);
  const definesProgram = new RegExp(`\\b${escapeRegExp(program)}\\s*\\(`);
  const withMap = sources.filter((text) => definesMap.test(text));
  const withBoth = withMap.filter((text) => definesProgram.test(text));
  const types = (withBoth.length > 0 ? withBoth : withMap).flatMap((text) => [...text.matchAll(RECORD_TYPE)].map((m) => m[1]!));
  return [...new Set(types)];
}

/** How to decode the records of a ring/perf buffer: the one record type its source declares, one picked, or none (hex). Null: cancelled. */
async function recordType(node: string, sessionName: string, map: string): Promise<string | undefined | null> {
  const files = await workspace.findFiles('**/*.bpf.c', '**/node_modules/**', 500);
  const sources = await Promise.all(files.map(async (uri) => Buffer.from(await workspace.fs.readFile(uri)).toString('utf8').replace(/\r\n/g, '\n')));
  const types = recordTypesIn(sources, map, sessionName);
  if (types.length <= 1) return types[0];
  const hex = '$(file-binary) raw bytes (hex)';
  const picked = await window.showQuickPick([...types.map((t) => ({ label: t, description: 'struct in the object\'s BTF' })), { label: hex, description: 'no decoding' }], {
    title: `Decode the records of ${map} on ${node} as`,
  });
  return picked === undefined ? null : picked.label === hex ? undefined : picked.label;
}

/** A buffer's trace, its records decoded with the record type its source declares (when it declares one). */
async function bufferTrace(node: string, session: { id: string; name: string }, map: string): Promise<TraceStartParams | undefined> {
  const btfType = await recordType(node, session.name, map);
  if (btfType === null) return undefined;
  return { node, session: session.id, map, ...(btfType ? { btfType } : {}) };
}

/** What a Start Trace invocation means: a ring buffer from the tree, a session's trace_pipe, or one picked. */
export async function traceToStart(studio: Studio, element?: NodesElement): Promise<TraceStartParams | undefined> {
  if (element?.kind === 'map') return bufferTrace(element.node, element.session, element.map.name);
  if (element?.kind === 'session') return { node: element.node, session: element.session.id };
  const nodes = await listNodes(studio);
  if (!nodes) return undefined;
  const items: Pick<{ node: string; session: { id: string; name: string }; map?: string }>[] = nodes.flatMap((n) =>
    n.sessions.flatMap((s) => [
      { value: { node: n.name, session: s }, label: 'trace_pipe', description: `bpf_printk of ${s.name} on ${n.name}` },
      ...s.maps.filter((m) => m.type === 'ringbuf').map((m) => ({ value: { node: n.name, session: s, map: m.name }, label: m.name, description: `ring buffer · ${s.name} on ${n.name}` })),
    ]),
  );
  if (items.length === 0) {
    void window.showInformationMessage('No session to trace: attach a program first ("eBPF: Attach…").');
    return undefined;
  }
  const picked = (await window.showQuickPick(items, { title: 'Start Trace', matchOnDescription: true }))?.value;
  if (!picked) return undefined;
  return picked.map === undefined ? { node: picked.node, session: picked.session.id } : bufferTrace(picked.node, picked.session, picked.map);
}
