import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { isPlainName } from '@ebpf-studio/remote-agent';
import { parseSocketAddress } from './address';
import { POLICY_VERSION, PolicyError, type ClusterDef, type Policy, type PolicyProblem } from './policy-model';
import { readPrograms } from './read-programs';
import { readServices } from './read-services';
import { listTemplates, type TemplateCatalog } from './template-catalog';
import { entryOf, scalar, YamlChecker, type YamlEntry } from './yaml-checker';

/**
 * Reads the services-and-policy part of `ebpf-studio.yaml` (docs/policy.md): `version`, `localCluster`,
 * each cluster's `id` and `gateway`, `services` and `programs`. The nodes of each cluster belong to the
 * inventory reader (remote-agent), which reads the same file; other top-level keys are left alone.
 */

export interface PolicyReadOptions {
  /** Templates that `programs[].template` may name; default: the bpf-templates folder. */
  catalog?: TemplateCatalog;
}

export interface PolicyCheck {
  /** Undefined when there are problems. */
  policy?: Policy;
  problems: PolicyProblem[];
  warnings: PolicyProblem[];
}

const MAX_CLUSTER_ID = 65535;

/** Cluster ids are needed only by services: a file without services (an inventory) may leave them out. */
function readClusters(check: YamlChecker, node: unknown, fallback: unknown, needIds: boolean): Map<string, ClusterDef> {
  const clusters = new Map<string, ClusterDef>();
  const ids = new Map<number, string>();
  for (const e of check.pairs(node, fallback, 'clusters')) {
    if (!isPlainName(e.key)) {
      check.error(e.keyNode, node, `cluster name ${JSON.stringify(e.key)}: use letters, digits, ".", "_" and "-"`);
      continue;
    }
    if (!isMap(e.value)) {
      check.error(e.value, e.keyNode, `clusters.${e.key} must be a mapping (e.g. "{ id: 1, nodes: [] }")`);
      continue;
    }
    const body = check.pairs(e.value, e.keyNode, `clusters.${e.key}`);
    const idEntry = entryOf(body, 'id');
    const id = scalar(idEntry?.value);
    if (idEntry === undefined) {
      if (needIds) check.error(e.keyNode, node, `clusters.${e.key} has no id: give every cluster a number from 1 to ${MAX_CLUSTER_ID}, the same on every node`);
      else clusters.set(e.key, { name: e.key, id: 0, at: check.at(e.keyNode, node) });
      continue;
    }
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_CLUSTER_ID) {
      check.error(idEntry.value, e.value, `clusters.${e.key}.id must be a whole number from 1 to ${MAX_CLUSTER_ID}`);
      continue;
    }
    const sameId = ids.get(id);
    if (sameId !== undefined) {
      check.error(idEntry.value, e.value, `clusters ${sameId} and ${e.key} both have id ${id}`);
      continue;
    }
    ids.set(id, e.key);
    const gatewayEntry = entryOf(body, 'gateway');
    let cluster: ClusterDef = { name: e.key, id, at: check.at(e.keyNode, node) };
    if (gatewayEntry) {
      const raw = scalar(gatewayEntry.value);
      const gateway = typeof raw === 'string' ? parseSocketAddress(raw) : `${JSON.stringify(raw ?? null)} is not an address:port`;
      if (typeof gateway === 'string') {
        check.error(gatewayEntry.value, e.value, `clusters.${e.key}.gateway: ${gateway}`);
        continue;
      }
      cluster = { ...cluster, gateway };
    }
    clusters.set(e.key, cluster);
  }
  return clusters;
}

/** Checks policy text; every problem and warning is positioned (1-based line and column). */
export function checkPolicy(text: string, path = '<text>', options: PolicyReadOptions = {}): PolicyCheck {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const check = new YamlChecker(lines);
  for (const err of doc.errors) {
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    check.problems.push({ line: pos.line, col: pos.col, message: err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
  }
  if (check.problems.length > 0) return { problems: check.problems, warnings: check.warnings };
  const root = doc.contents;
  if (!isMap(root)) {
    check.error(root, undefined, 'the file must be a mapping with version, clusters, services and programs');
    return { problems: check.problems, warnings: check.warnings };
  }
  const top = check.pairs(root, undefined, 'the file');
  const get = (key: string): YamlEntry | undefined => entryOf(top, key);

  const versionEntry = get('version');
  const version = scalar(versionEntry?.value);
  if (versionEntry === undefined) {
    if (get('services') || get('programs')) check.warn(root, undefined, `no "version:": read as version ${POLICY_VERSION}; add "version: ${POLICY_VERSION}" at the top`);
  } else if (version !== POLICY_VERSION) {
    check.error(versionEntry.value, root, `version ${JSON.stringify(version ?? null)} is not one this ebpf-studio reads: write "version: ${POLICY_VERSION}"`);
  }

  const clustersEntry = get('clusters');
  const clusters = clustersEntry ? readClusters(check, clustersEntry.value, clustersEntry.keyNode, get('services') !== undefined) : new Map<string, ClusterDef>();

  const localEntry = get('localCluster');
  let localCluster: string | undefined;
  if (localEntry) {
    const name = check.string(localEntry.value, localEntry.keyNode, 'localCluster');
    if (name !== undefined && !clusters.has(name)) {
      check.error(localEntry.value, root, `localCluster: unknown cluster "${name}" (clusters: ${[...clusters.keys()].join(', ') || 'none defined under clusters:'})`);
    } else localCluster = name;
  }

  const servicesEntry = get('services');
  const services = servicesEntry ? readServices(check, servicesEntry.value, servicesEntry.keyNode, { clusters, ...(localCluster ? { localCluster } : {}) }) : [];
  const programsEntry = get('programs');
  const programs = programsEntry ? readPrograms(check, programsEntry.value, programsEntry.keyNode, options.catalog ?? listTemplates()) : [];

  if (check.problems.length > 0) return { problems: check.problems, warnings: check.warnings };
  return {
    policy: { path, version: POLICY_VERSION, ...(localCluster ? { localCluster } : {}), clusters, services, programs, warnings: check.warnings },
    problems: [],
    warnings: check.warnings,
  };
}

/** Parses policy text; throws PolicyError listing every problem as file:line:col. */
export function parsePolicy(text: string, path = '<text>', options: PolicyReadOptions = {}): Policy {
  const result = checkPolicy(text, path, options);
  if (!result.policy) throw new PolicyError(path, result.problems);
  return result.policy;
}

export function loadPolicy(path: string, options: PolicyReadOptions = {}): Policy {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new PolicyError(absolute, [{ line: 1, col: 1, message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parsePolicy(text, absolute, options);
}
