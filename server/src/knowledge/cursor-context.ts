/**
 * What the cursor is in, read lexically so that half-typed code (the usual state while typing) works:
 * the call whose arguments it is in (signature help) and the SEC("…") string it is in (completion).
 * Lines and columns are 0-based, columns in UTF-16 code units, as in LSP.
 */

export interface CallContext {
  /** The called function: 'bpf_map_update_elem'. */
  name: string;
  /** 0-based index of the argument the cursor is in. */
  argIndex: number;
}

export interface SectionStringContext {
  /** The part of the SEC name before the cursor. */
  prefix: string;
  /** Columns of the string's contents on the line (after the opening quote, before the closing one). */
  start: number;
  end: number;
}

/** Parentheses after these are not calls: the cursor is in a condition, not in arguments. */
const STATEMENT_KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return']);
/** Parentheses after these group an operand: look further out for the call. */
const OPERATOR_KEYWORDS = new Set(['sizeof', '_Alignof', 'typeof', '__typeof__', '__builtin_offsetof', 'offsetof']);

type Frame = { kind: 'paren'; name?: string; commas: number } | { kind: 'brace' } | { kind: 'bracket' };

/** Offset in `text` of a line and column, or undefined when the line does not exist. */
export function offsetAt(text: string, line: number, column: number): number | undefined {
  let start = 0;
  for (let l = 0; l < line; l++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(start + Math.max(column, 0), lineEnd);
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

/** Index just past a quoted literal starting at `i` (its quote), stopping at `limit` or an unescaped newline. */
function skipQuoted(text: string, i: number, limit: number): number {
  const quote = text[i];
  let j = i + 1;
  while (j < limit && text[j] !== quote && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Innermost open frames at `limit`, or undefined when `limit` is inside a comment. */
function framesAt(text: string, limit: number): Frame[] | undefined {
  const frames: Frame[] = [];
  let lastIdent: string | undefined;
  let i = 0;
  while (i < limit) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      if (end < 0 || end >= limit) return undefined;
      i = end;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0 || end + 2 > limit) return undefined;
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i, limit);
      lastIdent = undefined;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < limit && isIdentChar(text[j]!)) j++;
      lastIdent = text.slice(i, j);
      i = j;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(') frames.push({ kind: 'paren', ...(lastIdent !== undefined ? { name: lastIdent } : {}), commas: 0 });
    else if (c === '{') frames.push({ kind: 'brace' });
    else if (c === '[') frames.push({ kind: 'bracket' });
    else if (c === ',') {
      const top = frames[frames.length - 1];
      if (top?.kind === 'paren') top.commas++;
    } else if (c === ')' || c === ']') {
      const open = c === ')' ? 'paren' : 'bracket';
      if (frames[frames.length - 1]?.kind === open) frames.pop();
    } else if (c === '}') {
      while (frames.length > 0 && frames.pop()!.kind !== 'brace');
    }
    lastIdent = undefined;
    i++;
  }
  return frames;
}

/** The function call whose argument list holds the cursor, and which argument the cursor is in. */
export function callAt(text: string, line: number, column: number): CallContext | undefined {
  const offset = offsetAt(text, line, column);
  if (offset === undefined) return undefined;
  const frames = framesAt(text, offset);
  if (frames === undefined) return undefined;
  for (let k = frames.length - 1; k >= 0; k--) {
    const frame = frames[k]!;
    if (frame.kind === 'brace') return undefined;
    if (frame.kind !== 'paren' || frame.name === undefined || OPERATOR_KEYWORDS.has(frame.name)) continue;
    if (STATEMENT_KEYWORDS.has(frame.name)) return undefined;
    return { name: frame.name, argIndex: frame.commas };
  }
  return undefined;
}

/** The SEC("…") string the cursor is in, on one line: what is typed so far and where the string is. */
export function sectionStringAt(text: string, line: number, column: number): SectionStringContext | undefined {
  const offset = offsetAt(text, line, 0);
  if (offset === undefined) return undefined;
  const lineEnd = text.indexOf('\n', offset);
  const lineText = text.slice(offset, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '');
  const commentAt = lineText.indexOf('//');
  for (const m of lineText.matchAll(/\bSEC\s*\(\s*"/g)) {
    if (commentAt >= 0 && commentAt < m.index) break;
    const start = m.index + m[0].length;
    const end = Math.min(skipQuoted(lineText, start - 1, lineText.length) - 1, lineText.length);
    if (column >= start && column <= end) return { prefix: lineText.slice(start, column), start, end };
  }
  return undefined;
}
