import type { Node } from 'web-tree-sitter';
import { cParser } from './c-parser';
import { progTypeOfSection } from './sections';

export { callAt, sectionStringAt } from './cursor-context';
export type { CallContext, SectionStringContext } from './cursor-context';

/**
 * Programs and maps of a BPF C file. tree-sitter does not expand SEC(), so `SEC("xdp") int f(...)`
 * parses as a statement followed by a function, `} name SEC(".maps");` splits the declaration, and
 * error recovery may bury a SEC inside an ERROR node. So SEC()s and function definitions are found
 * wherever they are and paired by position: a SEC names the function that follows it when nothing
 * but whitespace and comments lies between. Lines are 0-based.
 */

export interface OutlineProgram {
  /** The program's name: the function's, or the first argument of BPF_PROG(name, ...)-style macros. */
  name: string;
  section: string;
  /** libbpf's program type name, when libbpf knows the section. */
  progType?: string;
  /** First and last line of the function definition. */
  line: number;
  endLine: number;
  /** Line of the SEC("…"). */
  secLine: number;
}

export interface OutlineMap {
  name: string;
  /** Line of the map's name. */
  line: number;
  /** First line of its declaration (`struct {`). */
  startLine: number;
}

export interface Outline {
  programs: OutlineProgram[];
  maps: OutlineMap[];
}

interface SecUse {
  section: string;
  line: number;
  /** Offsets in the text of SEC and just past its closing parenthesis. */
  start: number;
  end: number;
}

const SEC_ARGUMENT = /\s*\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)/y;
const MAP_SECTIONS = new Set(['.maps', 'maps']);
/** libbpf's BPF_PROG(name, args...), BPF_KPROBE(name, ...) and friends: the program's name is the first argument. */
const NAME_MACRO = /^BPF_[A-Z0-9_]+$/;

/** Every SEC("…") in code (not in a comment or string), wherever error recovery put it in the tree. */
function secUses(root: Node, text: string): SecUse[] {
  const uses: SecUse[] = [];
  for (const m of text.matchAll(/\bSEC\b/g)) {
    const node = root.descendantForIndex(m.index);
    if (node?.type !== 'identifier' || node.startIndex !== m.index) continue;
    SEC_ARGUMENT.lastIndex = node.endIndex;
    const arg = SEC_ARGUMENT.exec(text);
    if (arg) uses.push({ section: arg[1]!, line: node.startPosition.row, start: node.startIndex, end: node.endIndex + arg[0].length });
  }
  return uses;
}

function declaratorName(node: Node | null): string | undefined {
  for (let n = node, depth = 0; n !== null && depth < 16; n = n.childForFieldName('declarator'), depth++) {
    if (n.type === 'identifier') return n.text;
    if (n.type === 'function_declarator') {
      const name = n.childForFieldName('declarator');
      if (name?.type !== 'identifier') return undefined;
      if (!NAME_MACRO.test(name.text)) return name.text;
      const first = n.childForFieldName('parameters')?.namedChildren[0]?.text.trim();
      return first !== undefined && /^[A-Za-z_]\w*$/.test(first) ? first : name.text;
    }
  }
  return undefined;
}

/** The first of `nodes` (in document order) that starts at or after `offset`. */
function firstFrom(nodes: readonly Node[], offset: number): Node | undefined {
  let lo = 0;
  let hi = nodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nodes[mid]!.startIndex < offset) lo = mid + 1;
    else hi = mid;
  }
  return nodes[lo];
}

/** Text between two offsets with comments removed is blank. */
function onlySpaceBetween(text: string, from: number, to: number): boolean {
  return text.slice(from, to).replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '').trim() === '';
}

/** The declarator name written just before `SEC(".maps")`, or after a legacy `SEC("maps")`. */
function mapName(text: string, sec: SecUse): { name: string; offset: number } | undefined {
  if (sec.section === '.maps') {
    const m = /([A-Za-z_]\w*)\s*$/.exec(text.slice(Math.max(0, sec.start - 256), sec.start));
    return m ? { name: m[1]!, offset: sec.start - m[0].length } : undefined;
  }
  const m = /^\s*([A-Za-z_]\w*)/.exec(text.slice(sec.end, sec.end + 256));
  return m ? { name: m[1]!, offset: sec.end + m[0].indexOf(m[1]!) } : undefined;
}

function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** First line of the declaration a map's name belongs to: the line of the `struct` that opens it. */
function declarationLine(text: string, nameOffset: number, sec: SecUse): number {
  if (sec.section !== '.maps') return sec.line;
  let depth = 0;
  let i = nameOffset - 1;
  while (i >= 0 && /\s/.test(text[i]!)) i--;
  if (text[i] !== '}') return lineOf(text, nameOffset);
  for (; i >= 0; i--) {
    if (text[i] === '}') depth++;
    else if (text[i] === '{' && --depth === 0) break;
  }
  const head = /(struct|union)\s*(?:[A-Za-z_]\w*\s*)?$/.exec(text.slice(Math.max(0, i - 128), i));
  return lineOf(text, head ? i - head[0].length : i);
}

/** Parses BPF C into its SEC programs and maps. Never throws on bad C; rejects only if the grammar cannot load. */
export async function outline(text: string): Promise<Outline> {
  const { parser, functionQuery } = await cParser();
  const tree = parser.parse(text);
  if (tree === null) return { programs: [], maps: [] };
  try {
    const secs = secUses(tree.rootNode, text);
    const functions = functionQuery.captures(tree.rootNode).map((c) => c.node);
    const programs: OutlineProgram[] = [];
    const maps: OutlineMap[] = [];
    for (const sec of secs) {
      if (MAP_SECTIONS.has(sec.section)) {
        const named = mapName(text, sec);
        if (named) maps.push({ name: named.name, line: lineOf(text, named.offset), startLine: declarationLine(text, named.offset, sec) });
        continue;
      }
      const fn = firstFrom(functions, sec.end);
      if (fn === undefined || !onlySpaceBetween(text, sec.end, fn.startIndex)) continue;
      const name = declaratorName(fn.childForFieldName('declarator'));
      if (name === undefined) continue;
      const progType = progTypeOfSection(sec.section);
      programs.push({ name, section: sec.section, ...(progType ? { progType } : {}), line: fn.startPosition.row, endLine: fn.endPosition.row, secLine: sec.line });
    }
    return { programs, maps };
  } finally {
    tree.delete();
  }
}

/** The program whose SEC line or body holds `line`. */
export function enclosingProgram(o: Outline, line: number): OutlineProgram | undefined {
  return o.programs.find((p) => line >= Math.min(p.secLine, p.line) && line <= p.endLine);
}
