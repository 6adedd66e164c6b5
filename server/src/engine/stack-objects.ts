import type { SourceText } from './source-text';

const ELEMENT_SIZE: Record<string, number> = {
  char: 1, __u8: 1, __s8: 1, u8: 1, s8: 1, uint8_t: 1, int8_t: 1, bool: 1, _Bool: 1,
  short: 2, __u16: 2, __s16: 2, u16: 2, s16: 2, uint16_t: 2, int16_t: 2, __be16: 2, __le16: 2,
  int: 4, __u32: 4, __s32: 4, u32: 4, s32: 4, uint32_t: 4, int32_t: 4, __be32: 4, __le32: 4, float: 4, unsigned: 4,
  long: 8, __u64: 8, __s64: 8, u64: 8, s64: 8, uint64_t: 8, int64_t: 8, __be64: 8, __le64: 8, double: 8,
};

const ARRAY_DECL = /\b((?:unsigned\s+|signed\s+|const\s+|volatile\s+)*[A-Za-z_]\w*)\s+\**\s*([A-Za-z_]\w*)\s*\[\s*(\d+|[A-Za-z_]\w*)\s*\]/g;

/** Numeric `#define NAME VALUE`s of the file, for array sizes written with a macro. */
function numericDefines(source: SourceText): Map<string, number> {
  const defines = new Map<string, number>();
  for (const line of source.lines) {
    const m = /^\s*#\s*define\s+([A-Za-z_]\w*)\s+\(?\s*(0x[0-9a-fA-F]+|\d+)[uUlL]*\s*\)?\s*(?:\/[/*].*)?$/.exec(line);
    if (m) defines.set(m[1]!, Number(m[2]));
  }
  return defines;
}

/** The largest fixed-size array declared in the body of the function that starts at `functionLine`. */
export function largestStackArray(source: SourceText, functionLine: number): { line: number; column: number; endColumn: number; name: string; bytes: number } | undefined {
  let depth = 0;
  let opened = false;
  let best: { line: number; column: number; endColumn: number; name: string; bytes: number } | undefined;
  const defines = numericDefines(source);
  for (let n = functionLine; n <= source.lines.length; n++) {
    const text = source.line(n).replace(/\/\/.*$/, '');
    if (opened && depth > 0) {
      for (const m of text.matchAll(ARRAY_DECL)) {
        const type = m[1]!.trim().split(/\s+/).pop()!;
        if (type === 'return' || type === 'sizeof') continue;
        const count = /^\d+$/.test(m[3]!) ? Number(m[3]) : defines.get(m[3]!);
        if (count === undefined) continue;
        const bytes = (ELEMENT_SIZE[type] ?? 1) * count;
        if (!best || bytes > best.bytes) {
          const column = (m.index ?? 0) + 1;
          best = { line: n, column, endColumn: column + m[0].length, name: m[2]!, bytes };
        }
      }
    }
    for (const ch of text) {
      if (ch === '{') {
        depth++;
        opened = true;
      } else if (ch === '}') depth--;
    }
    if (opened && depth <= 0) break;
  }
  return best;
}

/** A line at file scope that opens a function body (not a struct, union or enum, nor an initialiser). */
function opensFunctionBody(text: string): boolean {
  return text.includes('{') && !/\b(struct|union|enum)\b[^()]*\{/.test(text) && !/=\s*\{/.test(text);
}

/** The largest fixed-size stack array in any function of the file (the verifier's combined-stack error names no function). */
export function largestStackArrayInFile(source: SourceText): ReturnType<typeof largestStackArray> {
  let best: ReturnType<typeof largestStackArray>;
  let depth = 0;
  for (let n = 1; n <= source.lines.length; n++) {
    const text = source.line(n).replace(/\/\/.*$/, '');
    if (depth === 0 && opensFunctionBody(text)) {
      const candidate = largestStackArray(source, n);
      if (candidate && (!best || candidate.bytes > best.bytes)) best = candidate;
    }
    for (const ch of text) {
      if (ch === '{') depth++;
      else if (ch === '}') depth = Math.max(0, depth - 1);
    }
  }
  return best;
}
