import { readFileSync } from 'node:fs';
import type { ClangDiagnostic } from './clang-diagnostics';

/** 1-based byte column in `line` (UTF-8, as clang counts) → 1-based UTF-16 column (as editors and JS strings count). */
export function characterColumn(line: string, byteColumn: number): number {
  const bytes = Buffer.from(line, 'utf8');
  if (byteColumn - 1 >= bytes.length) return line.length + (byteColumn - bytes.length);
  return bytes.subarray(0, Math.max(0, byteColumn - 1)).toString('utf8').length + 1;
}

/**
 * Clang's diagnostics with their columns in UTF-16 code units instead of bytes, so that a squiggle lands
 * on the same characters on a line with "é" or "✓" before it. The compiled text gives the main file's
 * lines; another file (a header) is read from disk when `headers` is 'read' (a local compile), and left
 * as clang said when it cannot be read or lives elsewhere ('keep': a node's headers).
 */
export function withCharacterColumns(diagnostics: readonly ClangDiagnostic[], mainFile: string, mainText: string, headers: 'read' | 'keep'): ClangDiagnostic[] {
  const texts = new Map<string, string[] | undefined>([[mainFile, mainText.split('\n')]]);
  const linesOf = (file: string): string[] | undefined => {
    if (!texts.has(file) && headers === 'read') {
      try {
        texts.set(file, readFileSync(file, 'utf8').split('\n'));
      } catch {
        texts.set(file, undefined);
      }
    }
    return texts.get(file);
  };
  return diagnostics.map((d) => {
    const lines = linesOf(d.file);
    if (!lines) return d;
    const at = (line: number, column: number): number => characterColumn(lines[line - 1] ?? '', column);
    return {
      ...d,
      column: at(d.line, d.column),
      ...(d.endLine !== undefined && d.endColumn !== undefined ? { endColumn: at(d.endLine, d.endColumn) } : {}),
      ...(d.origin ? { origin: { line: d.origin.line, column: at(d.origin.line, d.origin.column) } } : {}),
    };
  });
}
