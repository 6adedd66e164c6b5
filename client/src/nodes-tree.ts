import { StudioMethods, type NodeSummary, type NodesParams } from '@ebpf-studio/studio-protocol';
import { EventEmitter, ThemeIcon, TreeItem, TreeItemCollapsibleState, window, type Disposable, type TreeDataProvider, type TreeView } from 'vscode';
import { reason, type Studio } from './studio';

const REFRESH_MS = 5000;
type Session = NodeSummary['sessions'][number];

/** The tree's elements: what a context-menu command receives. */
export type NodesElement =
  | { kind: 'cluster'; name: string; nodes: NodeSummary[] }
  | { kind: 'node'; node: NodeSummary }
  | { kind: 'session'; node: string; session: Session }
  | { kind: 'attachment'; node: string; session: string; attachment: Session['attachments'][number] }
  | { kind: 'map'; node: string; session: Session; map: Session['maps'][number] }
  | { kind: 'message'; text: string };


/** An attachment's target as the agent reports it (JSON of its AttachTarget), in words: `xdp vd1a (generic)`. */
function targetText(target: string): string {
  try {
    const { kind, ...rest } = JSON.parse(target) as { kind?: string } & Record<string, unknown>;
    const values = Object.entries(rest).map(([k, v]) => (k === 'mode' || k === 'direction' ? `(${String(v)})` : String(v)));
    return [kind, ...values].filter((v) => v !== undefined).join(' ');
  } catch {
    return target;
  }
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The top level: nodes of no cluster (this machine) as they are, then one element per cluster. */
function roots(nodes: readonly NodeSummary[]): NodesElement[] {
  const byCluster = new Map<string, NodeSummary[]>();
  const loose: NodesElement[] = [];
  for (const n of nodes) {
    if (n.cluster === undefined) loose.push({ kind: 'node', node: n });
    else byCluster.set(n.cluster, [...(byCluster.get(n.cluster) ?? []), n]);
  }
  return [...loose, ...[...byCluster].map(([name, members]): NodesElement => ({ kind: 'cluster', name, nodes: members }))];
}

/** Where a node is: its ssh target, or this machine. */
const whereIs = (node: NodeSummary): string => node.ssh ?? 'this machine';

function item(e: NodesElement): TreeItem {
  const { Expanded, None } = TreeItemCollapsibleState;
  switch (e.kind) {
    case 'cluster':
      return Object.assign(new TreeItem(e.name, Expanded), { contextValue: 'cluster', iconPath: new ThemeIcon('server-environment'), description: count(e.nodes.length, 'node') });
    case 'node':
      return Object.assign(new TreeItem(e.node.name, e.node.sessions.length > 0 ? Expanded : None), {
        id: `node/${e.node.name}`,
        contextValue: 'node',
        iconPath: new ThemeIcon(e.node.reachable ? 'vm-active' : 'vm-outline'),
        description: `${e.node.ssh === undefined ? 'this machine · ' : ''}${e.node.reachable ? `kernel ${e.node.kernel ?? '?'}${e.node.agentInstalled === false ? ' · agent not installed yet' : ''}` : 'unreachable'}`,
        tooltip: e.node.reachable ? `${whereIs(e.node)} · kernel ${e.node.kernel ?? '?'}` : `${whereIs(e.node)}: ${e.node.error ?? 'no answer'}`,
      });
    case 'session':
      return Object.assign(new TreeItem(e.session.name, Expanded), {
        id: `session/${e.node}/${e.session.id}`,
        contextValue: 'session',
        iconPath: new ThemeIcon('debug-alt'),
        description: `${e.session.attachments.length} attached${e.session.owned ? ' · ours' : ''}`,
      });
    case 'attachment':
      return Object.assign(new TreeItem(`${e.attachment.program} → ${targetText(e.attachment.target)}`, None), {
        id: `attachment/${e.node}/${e.session}/${e.attachment.id}`,
        contextValue: 'attachment',
        iconPath: new ThemeIcon('plug'),
        description: e.attachment.mechanism,
      });
    case 'map':
      return Object.assign(new TreeItem(e.map.name, None), {
        id: `map/${e.node}/${e.session.id}/${e.map.name}`,
        contextValue: e.map.type === 'ringbuf' ? 'map.ringbuf' : 'map',
        iconPath: new ThemeIcon('table'),
        description: e.map.type,
        command: { command: 'ebpfStudio.showMaps', title: 'Show Maps', arguments: [e] },
      });
    case 'message':
      return Object.assign(new TreeItem(e.text, None), { iconPath: new ThemeIcon('info') });
  }
}

function children(e: NodesElement): NodesElement[] {
  switch (e.kind) {
    case 'cluster':
      return e.nodes.map((node) => ({ kind: 'node', node }));
    case 'node':
      return e.node.sessions.map((session) => ({ kind: 'session', node: e.node.name, session }));
    case 'session':
      return [
        ...e.session.attachments.map((attachment): NodesElement => ({ kind: 'attachment', node: e.node, session: e.session.id, attachment })),
        ...e.session.maps.map((map): NodesElement => ({ kind: 'map', node: e.node, session: e.session, map })),
      ];
    default:
      return [];
  }
}

/** The eBPF Nodes view: this machine, then clusters → nodes (kernel) → sessions → attachments and maps; refreshed every REFRESH_MS while visible. */
export class NodesTree implements TreeDataProvider<NodesElement>, Disposable {
  private readonly changed = new EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: TreeView<NodesElement>;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: Disposable[];

  constructor(private readonly studio: Studio) {
    this.view = window.createTreeView('ebpfStudio.nodes', { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions = [this.view, this.changed, this.view.onDidChangeVisibility(() => this.schedule())];
    this.schedule();
  }

  refresh(): void {
    this.changed.fire();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = this.view.visible ? setTimeout(() => (this.refresh(), this.schedule()), REFRESH_MS) : undefined;
  }

  getTreeItem(e: NodesElement): TreeItem {
    return item(e);
  }

  async getChildren(e?: NodesElement): Promise<NodesElement[]> {
    if (e) return children(e);
    try {
      const nodes = await this.studio.request<NodeSummary[]>(StudioMethods.nodes, {} satisfies NodesParams);
      return roots(nodes);
    } catch (err) {
      return [{ kind: 'message', text: `Could not list the nodes: ${reason(err)}` }];
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
  }
}
