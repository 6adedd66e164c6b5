import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The templates under `bpf-templates/`: each folder holds a `template.json` manifest (format in
 * bpf-templates/README.md). Reading never throws on a bad manifest: it is skipped and reported.
 */

export interface TemplateProgram {
  readonly name: string;
  readonly section: string;
  /** 'cgroup': attach to the program entry's cgroup with `hook`; 'sk_msg': attach to `map`; others: xdp, tc. */
  readonly attach: string;
  readonly hook?: string;
  readonly map?: string;
  /** tc programs: which direction of the program entry's interface ('ingress' unless said). */
  readonly direction?: 'ingress' | 'egress';
}

export interface TemplateMap {
  readonly name: string;
  readonly type: string;
  readonly key?: string;
  readonly value: string;
  /** 'policy': written by `apply`; 'state': the program's own; 'counters', 'events': read by `status`. */
  readonly role: string;
  readonly description: string;
}

export interface TemplateParameter {
  readonly name: string;
  /** The C type of the const volatile variable. */
  readonly type: string;
  readonly default: number | string;
  /** 'ipv4': given as a dotted quad, stored in network byte order. */
  readonly format?: string;
  readonly description: string;
}

export interface TemplateManifest {
  readonly name: string;
  readonly summary: string;
  /** Absolute path of the template's folder. */
  readonly dir: string;
  readonly source: string;
  readonly header: string;
  /** Headers of bpf-templates/common the program includes; a scaffold copies them next to it. */
  readonly commonHeaders: readonly string[];
  /** Which policy compiler fills its 'policy' maps from ebpf-studio.yaml, when one does. */
  readonly policy?: string;
  readonly programs: readonly TemplateProgram[];
  readonly maps: readonly TemplateMap[];
  readonly parameters: readonly TemplateParameter[];
  /** The files a scaffold copies (relative to `dir`). */
  readonly files: readonly string[];
}

export interface TemplateCatalog {
  readonly dir: string;
  readonly templates: readonly TemplateManifest[];
  /** Manifests that could not be read, each naming its file. */
  readonly problems: readonly string[];
}

/** bpf-templates beside the built package (server/dist/src/policy → repo), or beside a bundle. */
export function defaultTemplatesDir(): string {
  const candidates = [resolve(__dirname, '..', '..', '..', '..', 'bpf-templates'), resolve(__dirname, 'bpf-templates')];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

/** bpf-templates/common: the headers every template may include (pass it to clang with -I). */
export function commonHeadersDir(dir = defaultTemplatesDir()): string {
  return join(dir, 'common');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

function records<T>(value: unknown, required: readonly string[]): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.every((v) => isRecord(v) && required.every((k) => v[k] !== undefined)) ? (value as T[]) : undefined;
}

function readManifest(dir: string, file: string): TemplateManifest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return `${file}: ${(err as Error).message}`;
  }
  if (!isRecord(raw)) return `${file}: not a JSON object`;
  const name = raw['name'];
  const summary = raw['summary'];
  const source = raw['source'];
  const header = raw['header'];
  const programs = records<TemplateProgram>(raw['programs'], ['name', 'section', 'attach']);
  const maps = records<TemplateMap>(raw['maps'] ?? [], ['name', 'type', 'value']);
  const parameters = records<TemplateParameter>(raw['parameters'] ?? [], ['name', 'type', 'default']);
  const files = strings(raw['files']);
  const commonHeaders = strings(raw['commonHeaders'] ?? []);
  if (typeof name !== 'string' || typeof summary !== 'string' || typeof source !== 'string' || typeof header !== 'string') {
    return `${file}: needs string fields name, summary, source and header`;
  }
  if (!programs) return `${file}: "programs" must list { name, section, attach }`;
  if (!maps || !parameters || !files || !commonHeaders) return `${file}: maps, parameters, files and commonHeaders must be lists (see bpf-templates/README.md)`;
  const policy = typeof raw['policy'] === 'string' ? raw['policy'] : undefined;
  return { name, summary, dir, source, header, commonHeaders, ...(policy ? { policy } : {}), programs, maps, parameters, files };
}

/** Every template under `dir`, sorted by name. */
export function listTemplates(dir = defaultTemplatesDir()): TemplateCatalog {
  const templates: TemplateManifest[] = [];
  const problems: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    return { dir, templates, problems: [`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  for (const entry of entries.sort()) {
    const file = join(dir, entry, 'template.json');
    if (!existsSync(file)) continue;
    const manifest = readManifest(join(dir, entry), file);
    if (typeof manifest === 'string') problems.push(manifest);
    else templates.push(manifest);
  }
  return { dir, templates, problems };
}

export function findTemplate(catalog: TemplateCatalog, name: string): TemplateManifest | undefined {
  return catalog.templates.find((t) => t.name === name);
}
