import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { declare } from './c-declaration';
import { rstToMarkdown } from './rst-markdown';

/** One BPF helper as libbpf's generated bpf_helper_defs.h declares and documents it. */
export interface HelperDoc {
  name: string;
  /** enum bpf_func_id value: the `(void *) N` the header assigns. */
  id: number;
  /** C prototype as a plain function: 'long bpf_map_update_elem(void *map, const void *key, ...)'. */
  signature: string;
  returnType: string;
  /** '...' has type '...' and name ''. */
  params: { type: string; name: string }[];
  /** Markdown from the doc comment's description. */
  description: string;
  /** Markdown from the doc comment's Returns section. */
  returns: string;
  /** 0-based line of the declaration in the header. */
  line: number;
}

export interface HelperTable {
  /** The header read, or undefined when none was found. */
  path?: string;
  helpers: HelperDoc[];
  byName: ReadonlyMap<string, HelperDoc>;
  byId: ReadonlyMap<number, HelperDoc>;
}

export const DEFAULT_HELPER_HEADER = '/usr/include/bpf/bpf_helper_defs.h';

/** `static <ret> (* [const] name)(<params>) = (void *) N;` */
const DECLARATION = /^static\s+([^;]*?)\(\s*\*\s*(?:const\s+)?([A-Za-z_]\w*)\s*\)\s*\(([^;]*)\)\s*=\s*\(\s*void\s*\*\s*\)\s*(\d+)\s*;/;

/** The bpf_helper_defs.h a compile would see: the first `<dir>/bpf/bpf_helper_defs.h` on the include path, else the system one. */
export function findHelperHeader(includePaths: readonly string[] = []): string | undefined {
  for (const candidate of [...includePaths.map((dir) => join(dir, 'bpf', 'bpf_helper_defs.h')), DEFAULT_HELPER_HEADER]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Normalises C type spelling: single spaces, 'void *' rather than 'void*'. */
function tidyType(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\s*\*\s*/g, ' *').replace(/\* \*/g, '**').replace(/\( \*/g, '(*').trim();
}

/** Splits a parameter list at top-level commas (a function-pointer parameter has its own parentheses). */
function splitParams(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Words that end a type, so a parameter ending in one of them has no name ('unsigned long'). */
const TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool']);

function parseParam(text: string): { type: string; name: string } {
  if (text === '...') return { type: '...', name: '' };
  const pointer = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)/.exec(text);
  if (pointer) return { type: tidyType(text.replace(pointer[0], '(*)')), name: pointer[1]! };
  const named = /^(.*?[\s*])([A-Za-z_]\w*)\s*((?:\[[^\]]*\])*)$/.exec(text);
  const unnamed = !named || TYPE_WORDS.has(named[2]!) || /^(?:const|volatile|struct|union|enum)?$/.test(named[1]!.trim());
  if (unnamed) return { type: tidyType(text), name: '' };
  return { type: tidyType(named[1]! + named[3]!), name: named[2]! };
}

/** Splits a bpf_doc.py comment body (already stripped of ' * ') into its description and Returns parts. */
function splitDoc(body: string[], name: string): { description: string; returns: string } {
  const lines = body[0]?.trim() === name ? body.slice(1) : body;
  const returnsAt = lines.findIndex((l) => l.trim() === 'Returns');
  const description = returnsAt < 0 ? lines : lines.slice(0, returnsAt);
  const returns = returnsAt < 0 ? [] : lines.slice(returnsAt + 1);
  return { description: rstToMarkdown(description), returns: rstToMarkdown(returns) };
}

/** Comment lines between '/*' and '*\/' without the leading ' * '. */
function commentBody(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/\s*$/, ''));
}

/** Parses the text of a bpf_helper_defs.h. Never throws: declarations it cannot read are skipped. */
export function parseHelperDefs(text: string): HelperDoc[] {
  const lines = text.split(/\r?\n/);
  const helpers: HelperDoc[] = [];
  let comment: { start: number; end: number } | undefined;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^\s*\/\*/.test(line)) {
      const start = i;
      while (i < lines.length && !lines[i]!.includes('*/')) i++;
      comment = { start, end: i };
      i++;
      continue;
    }
    if (!line.startsWith('static')) {
      if (line.trim() !== '') comment = undefined;
      i++;
      continue;
    }
    const start = i;
    let statement = line;
    while (!statement.includes(';') && i + 1 < lines.length && i - start < 20) statement += ` ${lines[++i]!.trim()}`;
    i++;
    const m = DECLARATION.exec(statement);
    const doc = comment && comment.end === start - 1 ? commentBody(lines.slice(comment.start + 1, comment.end)) : [];
    comment = undefined;
    if (!m) continue;
    const returnType = tidyType(m[1]!);
    const name = m[2]!;
    const rawParams = m[3]!.trim();
    const params = rawParams === 'void' ? [] : splitParams(rawParams).map(parseParam);
    helpers.push({
      name,
      id: Number(m[4]),
      signature: `${declare(returnType, name)}(${params.map((p) => declare(p.type, p.name)).join(', ') || 'void'})`,
      returnType,
      params,
      ...splitDoc(doc, name),
      line: start,
    });
  }
  return helpers;
}

function table(helpers: HelperDoc[], path?: string): HelperTable {
  return {
    ...(path !== undefined ? { path } : {}),
    helpers,
    byName: new Map(helpers.map((h) => [h.name, h])),
    byId: new Map(helpers.map((h) => [h.id, h])),
  };
}

const cache = new Map<string, { mtimeMs: number; size: number; table: HelperTable }>();

/**
 * The helpers documented in a bpf_helper_defs.h (by default the one `findHelperHeader()` picks), cached
 * per path until the file's mtime or size changes. An unreadable or odd header gives an empty or partial table.
 */
export function loadHelperDefs(path: string | undefined = findHelperHeader()): HelperTable {
  if (path === undefined) return table([]);
  let stat;
  try {
    stat = statSync(path);
  } catch {
    cache.delete(path);
    return table([], path);
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.table;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return table([], path);
  }
  const result = table(parseHelperDefs(text), path);
  cache.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, table: result });
  return result;
}
