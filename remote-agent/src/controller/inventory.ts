/**
 * The inventory: `ebpf-studio.yaml` (docs/ebpf-studio-yaml.md) names clusters and their nodes, and how
 * to reach each node over SSH. This module reads it (explicit path or upwards from a directory), checks
 * it with positioned errors (file:line:col), and resolves `--node X` and `--cluster NAME` to targets.
 * Top-level keys other than `clusters` belong to other features: they are kept, not interpreted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { isPlainName, parseSshTarget, TargetSyntaxError } from './ssh/target';

export const INVENTORY_FILE = 'ebpf-studio.yaml';
/** Keys of a cluster: its nodes here; `id` and `gateway` are read by the policy (server/src/policy). */
const CLUSTER_KEYS = new Set(['nodes', 'id', 'gateway']);
const NODE_KEYS = new Set(['name', 'ssh', 'sudo', 'lease']);

/** A node to connect to: from the inventory, or named directly by an alias or user@host[:port]. */
export interface NodeTarget {
  readonly name: string;
  /** ssh_config alias or user@host[:port] (already checked by parseSshTarget). */
  readonly ssh: string;
  /** Start the agent with `sudo -n`. */
  readonly sudo: boolean;
  readonly cluster?: string;
  /** How long the node keeps a session whose controller went away (the `lease` entry), in ms. */
  readonly leaseMs?: number;
}

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface InventoryProblem extends Position {
  readonly message: string;
}

export interface Inventory {
  /** Absolute path of the file, or '<text>' for parsed text. */
  readonly path: string;
  readonly clusters: ReadonlyMap<string, readonly NodeTarget[]>;
  readonly nodes: readonly NodeTarget[];
  /** Things that are not wrong but look like mistakes (unknown keys), positioned. */
  readonly warnings: readonly InventoryProblem[];
  /** The other top-level keys (services, programs, localCluster, ...), as plain data. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export class InventoryError extends Error {
  constructor(readonly path: string, readonly problems: readonly InventoryProblem[]) {
    super(problems.map((p) => `${path}:${p.line}:${p.col}: ${p.message}`).join('\n'));
    this.name = 'InventoryError';
  }
}

/** Durations as the inventory and `--lease` write them: 500ms, 15s, 2m, 1h. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * scale);
  return ms > 0 ? ms : undefined;
}

class Checker {
  readonly problems: InventoryProblem[] = [];
  readonly warnings: InventoryProblem[] = [];
  constructor(private readonly lines: LineCounter) {}

  at(node: Node | null | undefined, fallback: Node | undefined): Position {
    const offset = node?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    return this.lines.linePos(offset);
  }

  error(node: Node | null | undefined, fallback: Node | undefined, message: string): void {
    this.problems.push({ ...this.at(node, fallback), message });
  }

  warn(node: Node | null | undefined, fallback: Node | undefined, message: string): void {
    this.warnings.push({ ...this.at(node, fallback), message });
  }
}

function keyText(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : '';
}

function checkNode(check: Checker, item: unknown, where: string, cluster: string, seen: Map<string, Position>): NodeTarget | undefined {
  const fallback = item as Node | undefined;
  if (!isMap(item)) {
    check.error(item as Node, fallback, `${where} must be a mapping with name and ssh (e.g. "- name: east-1\\n  ssh: root@10.0.0.1")`);
    return undefined;
  }
  let name: string | undefined;
  let ssh: string | undefined;
  let sudo = false;
  let leaseMs: number | undefined;
  for (const pair of item.items) {
    const key = keyText(pair);
    const value = pair.value as Node | null;
    const raw = isScalar(value) ? value.value : undefined;
    if (!NODE_KEYS.has(key)) {
      check.warn(pair.key as Node, item, `${where}: unknown key "${key}" (known: ${[...NODE_KEYS].join(', ')}); ignored`);
      continue;
    }
    if (key === 'name' || key === 'ssh') {
      if (typeof raw !== 'string' || raw === '') {
        check.error(value, item, `${where}.${key} must be a non-empty string`);
        continue;
      }
      if (key === 'name') {
        if (!isPlainName(raw)) check.error(value, item, `${where}.name ${JSON.stringify(raw)}: use letters, digits, ".", "_" and "-" (no spaces or shell characters)`);
        else name = raw;
      } else {
        try {
          parseSshTarget(raw);
          ssh = raw;
        } catch (err) {
          check.error(value, item, `${where}.ssh: ${(err as TargetSyntaxError).message}`);
        }
      }
    } else if (key === 'sudo') {
      if (typeof raw !== 'boolean') check.error(value, item, `${where}.sudo must be true or false${typeof raw === 'string' ? ` (got the string "${raw}")` : ''}`);
      else sudo = raw;
    } else {
      const parsed = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (parsed === undefined) check.error(value, item, `${where}.lease must be a duration such as 15s, 500ms or 2m`);
      else leaseMs = parsed;
    }
  }
  if (name === undefined) {
    if (!item.items.some((p) => keyText(p) === 'name')) check.error(item, item, `${where} has no name`);
    return undefined;
  }
  const pos = check.at(item.items.find((p) => keyText(p) === 'name')?.value as Node, item);
  const earlier = seen.get(name);
  if (earlier) {
    check.error(item.items.find((p) => keyText(p) === 'name')?.value as Node, item, `node name "${name}" is used twice (first at line ${earlier.line}:${earlier.col}): node names must be unique across clusters`);
    return undefined;
  }
  seen.set(name, pos);
  return { name, ssh: ssh ?? name, sudo, cluster, ...(leaseMs === undefined ? {} : { leaseMs }) };
}

function checkClusters(check: Checker, clustersNode: unknown, root: YAMLMap): Map<string, NodeTarget[]> {
  const clusters = new Map<string, NodeTarget[]>();
  if (!isMap(clustersNode)) {
    check.error(clustersNode as Node, root, 'clusters must be a mapping of cluster names to { nodes: [...] }');
    return clusters;
  }
  const seen = new Map<string, Position>();
  for (const pair of clustersNode.items) {
    const cluster = keyText(pair);
    if (!isPlainName(cluster)) {
      check.error(pair.key as Node, clustersNode, `cluster name ${JSON.stringify(cluster)}: use letters, digits, ".", "_" and "-"`);
      continue;
    }
    const body = pair.value;
    const nodesNode = isMap(body) ? body.get('nodes', true) : undefined;
    if (!isMap(body) || !isSeq(nodesNode)) {
      check.error((isMap(body) ? body : pair.key) as Node, clustersNode, `clusters.${cluster} must have a "nodes" list`);
      continue;
    }
    for (const other of body.items) {
      if (!CLUSTER_KEYS.has(keyText(other) ?? '')) check.warn(other.key as Node, body, `clusters.${cluster}: unknown key "${keyText(other)}"; ignored`);
    }
    const nodes: NodeTarget[] = [];
    nodesNode.items.forEach((item, i) => {
      const node = checkNode(check, item, `clusters.${cluster}.nodes[${i}]`, cluster, seen);
      if (node) nodes.push(node);
    });
    clusters.set(cluster, nodes);
  }
  return clusters;
}

/** Parses inventory text; throws InventoryError listing every problem with its line and column. */
export function parseInventory(text: string, path = '<text>'): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const check = new Checker(lines);
  for (const err of doc.errors) {
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    check.problems.push({ line: pos.line, col: pos.col, message: err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
  }
  if (check.problems.length > 0) throw new InventoryError(path, check.problems);
  const root = doc.contents;
  if (root !== null && !isMap(root)) throw new InventoryError(path, [{ ...check.at(root, undefined), message: 'the file must be a mapping with a "clusters" key' }]);
  const extra: Record<string, unknown> = {};
  let clusters = new Map<string, NodeTarget[]>();
  for (const pair of root?.items ?? []) {
    const key = keyText(pair);
    if (key === 'clusters') clusters = checkClusters(check, pair.value, root!);
    else extra[key] = (pair.value as Node | null)?.toJSON() ?? null;
  }
  if (check.problems.length > 0) throw new InventoryError(path, check.problems);
  return { path, clusters, nodes: [...clusters.values()].flat(), warnings: check.warnings, extra };
}

export function loadInventory(path: string): Inventory {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new InventoryError(absolute, [{ line: 1, col: 1, message: `cannot read the inventory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseInventory(text, absolute);
}

/** The nearest ebpf-studio.yaml in `dir` or a parent directory. */
export function findInventory(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const candidate = join(current, INVENTORY_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** `--config FILE` when given, else the nearest ebpf-studio.yaml upwards from `cwd`; undefined when there is none. */
export function openInventory(options: { config?: string; cwd?: string } = {}): Inventory | undefined {
  if (options.config !== undefined) return loadInventory(options.config);
  const found = findInventory(options.cwd ?? process.cwd());
  return found === undefined ? undefined : loadInventory(found);
}

/**
 * `--node X`: a node name from the inventory, else an ssh alias or user@host[:port] (checked: shell
 * metacharacters and the like are rejected with a TargetSyntaxError).
 */
export function resolveNode(spec: string, inventory?: Inventory): NodeTarget {
  const known = inventory?.nodes.find((n) => n.name === spec);
  if (known) return known;
  parseSshTarget(spec);
  return { name: spec, ssh: spec, sudo: false };
}

/** `--cluster NAME`: every node of that cluster. */
export function resolveCluster(name: string, inventory: Inventory | undefined): readonly NodeTarget[] {
  const nodes = inventory?.clusters.get(name);
  if (nodes) return nodes;
  const known = inventory ? [...inventory.clusters.keys()] : [];
  const where = inventory ? `in ${inventory.path}` : `(no ${INVENTORY_FILE} found: pass --config FILE or run from a directory below one)`;
  throw new Error(`no cluster "${name}" ${where}${known.length > 0 ? `; clusters: ${known.join(', ')}` : ''}`);
}
