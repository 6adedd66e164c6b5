import type { TraceStartParams } from '@ebpf-studio/studio-protocol';
import { window, type QuickPickItem } from 'vscode';
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

/** What a Start Trace invocation means: a ring buffer from the tree, a session's trace_pipe, or one picked. */
export async function traceToStart(studio: Studio, element?: NodesElement): Promise<TraceStartParams | undefined> {
  if (element?.kind === 'map') return { node: element.node, session: element.session.id, map: element.map.name };
  if (element?.kind === 'session') return { node: element.node, session: element.session.id };
  const nodes = await listNodes(studio);
  if (!nodes) return undefined;
  const items: Pick<TraceStartParams>[] = nodes.flatMap((n) =>
    n.sessions.flatMap((s) => [
      { value: { node: n.name, session: s.id }, label: 'trace_pipe', description: `bpf_printk of ${s.name} on ${n.name}` },
      ...s.maps.filter((m) => m.type === 'ringbuf').map((m) => ({ value: { node: n.name, session: s.id, map: m.name }, label: m.name, description: `ring buffer · ${s.name} on ${n.name}` })),
    ]),
  );
  if (items.length === 0) {
    void window.showInformationMessage('No session to trace: attach a program first ("eBPF: Attach…").');
    return undefined;
  }
  return (await window.showQuickPick(items, { title: 'Start Trace', matchOnDescription: true }))?.value;
}
