import { type TextEdit, Range } from 'vscode-languageserver';
import { MAP_ARGUMENT_HELPERS, stackRead, unsignedOfSize } from '../../engine/map-argument-size';
import { SourceText } from '../../engine/source-text';

/** What a quick fix sees: the document, the diagnostic's line (1-based) and what the engine knew. */
export interface FixInput {
  source: SourceText;
  line: number;
  code: string;
  progType?: string;
  /** The tool's own message, e.g. `invalid read from stack R2 off=-4 size=8`. */
  kernelMessage?: string;
  related: { line: number; message: string }[];
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

const SAFE_RETURN: Record<string, string> = {
  xdp: 'XDP_PASS',
  sk_msg: 'SK_PASS',
  sk_skb: 'SK_PASS',
  cgroup_sock_addr: '1',
  cgroup_sock: '1',
  cgroup_skb: '1',
  cgroup_sockopt: '1',
  cgroup_device: '1',
  cgroup_sysctl: '1',
};

/** The value that lets traffic through unchanged for this program type (0 where 0 means "carry on"). */
export function safeReturn(progType: string | undefined): string {
  return (progType && SAFE_RETURN[progType]) ?? '0';
}

function indentOf(text: string): string {
  return /^\s*/.exec(text)![0];
}

function indentUnit(source: SourceText): string {
  const indented = source.lines.find((l) => /^[\t ]+\S/.test(l));
  return indented?.startsWith('\t') ? '\t' : '    ';
}

function insertBefore(line: number, text: string): TextEdit {
  return { range: Range.create(line - 1, 0, line - 1, 0), newText: text };
}

/** The line on which the statement starting at `line` ends (its `;`). */
function statementEnd(source: SourceText, line: number): number {
  for (let n = line; n <= Math.min(source.lines.length, line + 10); n++) {
    if (/;\s*(\/\/.*|\/\*.*\*\/\s*)?$/.test(source.line(n))) return n;
  }
  return line;
}

function guard(source: SourceText, at: number, condition: string, progType: string | undefined): string {
  const indent = indentOf(source.line(at));
  return `${indent}if (${condition})\n${indent}${indentUnit(source)}return ${safeReturn(progType)};\n`;
}

function nullCheck(input: FixInput): QuickFix | undefined {
  const { source } = input;
  const fix = (n: number, variable: string): QuickFix => ({ title: `Add a NULL check for '${variable}'`, edits: [insertBefore(statementEnd(source, n) + 1, guard(source, n, `!${variable}`, input.progType))] });
  // The engine followed the pointer back to where it came from (a call, or a load such as skops->sk):
  // check the variable assigned there, or offer nothing (a global function's argument has no such line).
  const origin = input.related[0]?.line;
  if (origin !== undefined) {
    // `struct backend *be =` may end the line before the call's
    const assigned = /(\w+)\s*=(?!=)/.exec(source.code(origin)) ?? /(\w+)\s*=\s*$/.exec(source.code(origin - 1));
    return assigned ? fix(origin, assigned[1]!) : undefined;
  }
  for (let n = input.line - 1; n >= Math.max(1, input.line - 40); n--) {
    const m = /(\w+)\s*=\s*(?:\([^)]*\)\s*)?(bpf_\w*lookup\w*|bpf_sk_\w+|bpf_ringbuf_reserve)\s*\(/.exec(source.line(n));
    if (m) return fix(n, m[1]!);
  }
  return undefined;
}

function dataEndExpression(source: SourceText, before: number): string {
  for (let n = before; n >= 1; n--) {
    const m = /(\w+)\s*=\s*\(\s*void\s*\*\s*\)\s*\(\s*long\s*\)\s*(\w+)\s*->\s*data_end/.exec(source.line(n));
    if (m) return m[1]!;
    if (/^\w.*\)\s*\{?\s*$/.test(source.line(n)) && n < before) break;
  }
  for (let n = before; n >= 1; n--) {
    const ctx = /\(\s*struct\s+(?:xdp_md|__sk_buff)\s*\*\s*(\w+)\s*\)/.exec(source.line(n));
    if (ctx) return `(void *)(long)${ctx[1]}->data_end`;
  }
  return '(void *)(long)ctx->data_end';
}

function packetBoundsCheck(input: FixInput): QuickFix | undefined {
  const { source, line } = input;
  const m = /(\w+)\s*->/.exec(source.line(line)) ?? /\*\s*\(?\s*(\w+)/.exec(source.line(line));
  if (!m) return undefined;
  const ptr = m[1]!;
  const dataEnd = dataEndExpression(source, line);
  return { title: `Check '${ptr}' against data_end before reading it`, edits: [insertBefore(line, guard(source, line, `(void *)(${ptr} + 1) > ${dataEnd}`, input.progType))] };
}

function gplLicense(input: FixInput): QuickFix | undefined {
  const { source } = input;
  const line = source.find(/SEC\(\s*"license"\s*\)/);
  if (line !== undefined) {
    const text = source.line(line);
    const m = /=\s*"([^"]*)"/.exec(text);
    if (!m) return undefined;
    const start = text.indexOf(`"${m[1]}"`, m.index);
    return { title: 'Use the GPL license (needed for GPL-only helpers)', edits: [{ range: Range.create(line - 1, start, line - 1, start + m[1]!.length + 2), newText: '"GPL"' }] };
  }
  const last = source.lines.length;
  return { title: 'Declare a GPL license', edits: [insertBefore(last + 1, '\nchar LICENSE[] SEC("license") = "GPL";\n')] };
}

function zeroInitialise(input: FixInput): QuickFix | undefined {
  const { source, line } = input;
  const names = [...source.line(line).matchAll(/&\s*(\w+)/g)].map((m) => m[1]!);
  for (const name of names) {
    const decl = new RegExp(`^(\\s*)((?:const\\s+)?(?:struct|union)\\s+\\w+|[A-Za-z_][\\w ]*?)\\s+${name}\\s*;`);
    for (let n = line; n >= Math.max(1, line - 60); n--) {
      const m = decl.exec(source.line(n));
      if (!m) continue;
      const text = source.line(n);
      const semi = text.indexOf(';', m.index + m[1]!.length + m[2]!.length);
      if (/^(?:const\s+)?(?:struct|union)\s/.test(m[2]!)) {
        const indent = m[1]!;
        return { title: `Zero-initialise '${name}' (padding included)`, edits: [insertBefore(n + 1, `${indent}__builtin_memset(&${name}, 0, sizeof(${name}));\n`)] };
      }
      return { title: `Initialise '${name}' to 0`, edits: [{ range: Range.create(n - 1, semi, n - 1, semi), newText: ' = 0' }] };
    }
  }
  return undefined;
}

/** The size in bytes of a C integer type as BPF (64-bit) has it, or undefined for anything else. */
function integerSize(type: string): number | undefined {
  const t = type.replace(/\s+/g, ' ').trim();
  const bits = /^(?:__[us]|[us]|u?int)(8|16|32|64)(?:_t)?$/.exec(t)?.[1];
  if (bits) return Number(bits) / 8;
  const plain = t.replace(/^(?:unsigned|signed) /, '');
  return ({ char: 1, short: 2, int: 4, unsigned: 4, long: 8, 'long long': 8 } as Record<string, number>)[plain];
}

/**
 * A map helper read a whole key or value of `size` bytes (Rn: its n-th argument) through a pointer to a
 * smaller integer variable: declare the variable with the unsigned type of that size.
 */
function widenMapArgument(input: FixInput): QuickFix | undefined {
  const read = stackRead(input.kernelMessage ?? '');
  const type = read && read.register >= 2 ? unsignedOfSize(read.size) : undefined;
  const call = new RegExp(`\\b(?:${MAP_ARGUMENT_HELPERS.join('|')})\\s*\\(([^)]*)\\)`).exec(input.source.code(input.line));
  if (!read || !type || !call) return undefined;
  const argument = call[1]!.split(',')[read.register - 1]?.trim();
  const name = argument && /^&\s*(\w+)$/.exec(argument)?.[1];
  if (!name) return undefined;
  const decl = new RegExp(`^(\\s*)([A-Za-z_][\\w ]*?)(\\s+)${name}\\s*(?:=|;)`);
  for (let n = input.line; n >= Math.max(1, input.line - 60); n--) {
    const m = decl.exec(input.source.line(n));
    if (!m) continue;
    const declared = integerSize(m[2]!);
    if (declared === undefined || declared >= read.size) return undefined;
    const start = m[1]!.length;
    return { title: `Declare '${name}' as ${type} (the map reads ${read.size} bytes)`, edits: [{ range: Range.create(n - 1, start, n - 1, start + m[2]!.length), newText: type }] };
  }
  return undefined;
}

function clampIndex(input: FixInput): QuickFix | undefined {
  const { source, line } = input;
  const access = /(\w+)\s*\[\s*([A-Za-z_]\w*)\s*\]/.exec(source.line(line));
  if (!access) return undefined;
  const [, array, index] = access;
  const declPattern = new RegExp(`\\b${array}\\s*\\[\\s*(\\w+)\\s*\\]\\s*[;,=)]`);
  let size: string | undefined;
  for (let n = 1; n <= source.lines.length && !size; n++) {
    if (n === line) continue;
    const m = declPattern.exec(source.line(n));
    if (m) size = m[1];
  }
  if (!size) return undefined;
  return { title: `Clamp '${index}' to the size of '${array}' (${size})`, edits: [insertBefore(line, guard(source, line, `${index} >= ${size}`, input.progType))] };
}

/** Fields of a legacy map definition (bpf_map_def, and iproute2's bpf_elf_map) → a BTF-defined map's. */
const LEGACY_MAP_FIELDS: Record<string, 'type' | 'key' | 'value' | 'max_entries' | 'map_flags'> = {
  type: 'type',
  key_size: 'key',
  size_key: 'key',
  value_size: 'value',
  size_value: 'value',
  max_entries: 'max_entries',
  max_elem: 'max_entries',
  map_flags: 'map_flags',
  flags: 'map_flags',
};

/**
 * Rewrite `struct bpf_map_def SEC("maps") name = { .type = ..., .key_size = sizeof(K), ... };` as the
 * BTF-defined `struct { __uint(type, ...); __type(key, K); ... } name SEC(".maps");`. Not offered when the
 * definition has a field with no BTF-defined counterpart here (pinning, inner maps): dropping it would
 * change what the map is.
 */
function btfDefinedMap(input: FixInput): QuickFix | undefined {
  const { source, line } = input;
  const head = /^(\s*)(?:static\s+)?struct\s+\w+\s+(?:(?:SEC|__section)\(\s*"maps"\s*\)\s+(\w+)|(\w+)\s+(?:SEC|__section)\(\s*"maps"\s*\))\s*=\s*\{/.exec(source.code(line));
  if (!head) return undefined;
  const indent = head[1]!;
  const name = head[2] ?? head[3]!;
  let end = line;
  while (end <= source.lines.length && !/\}\s*;/.test(source.code(end))) end++;
  if (end > source.lines.length) return undefined;
  const body = Array.from({ length: end - line + 1 }, (_, i) => source.code(line + i)).join('\n');
  const initialiser = body.slice(body.indexOf('{') + 1, body.lastIndexOf('}'));
  const members: string[] = [];
  for (const field of initialiser.split(',').map((f) => f.trim()).filter((f) => f !== '')) {
    const m = /^\.(\w+)\s*=\s*([\s\S]+)$/.exec(field);
    const kind = m ? LEGACY_MAP_FIELDS[m[1]!] : undefined;
    if (!m || !kind) return undefined;
    const value = m[2]!.trim();
    const sized = /^sizeof\s*\(\s*([\s\S]+?)\s*\)$/.exec(value);
    if (kind === 'key' || kind === 'value') members.push(sized ? `__type(${kind}, ${sized[1]})` : `__uint(${kind}_size, ${value})`);
    else members.push(`__uint(${kind}, ${value})`);
  }
  const unit = indentUnit(source);
  const text = [`${indent}struct {`, ...members.map((m) => `${indent}${unit}${m};`), `${indent}} ${name} SEC(".maps");`].join('\n');
  const last = source.code(end);
  return {
    title: `Declare '${name}' as a BTF-defined map in SEC(".maps")`,
    edits: [{ range: Range.create(line - 1, 0, end - 1, last.indexOf(';', last.search(/\}\s*;/)) + 1), newText: text }],
  };
}

const FIXES: Record<string, ((input: FixInput) => QuickFix | undefined)[]> = {
  'BPF-NULL-DEREF': [nullCheck],
  'BPF-PKT-OOB': [packetBoundsCheck],
  'BPF-GPL-ONLY': [gplLicense],
  'BPF-UNINIT': [widenMapArgument, zeroInitialise],
  'BPF-MAP-VALUE-OOB': [clampIndex],
  'BPF-STACK-OOB': [clampIndex],
  'LIBBPF-LEGACY-MAPS': [btfDefinedMap],
};

export function quickFixesFor(input: FixInput): QuickFix[] {
  return (FIXES[input.code] ?? []).map((f) => f(input)).filter((f): f is QuickFix => f !== undefined);
}
