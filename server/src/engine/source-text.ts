/** Line-oriented views of the user's source text, for placing diagnostics (1-based lines and columns). */
export class SourceText {
  readonly lines: string[];

  constructor(readonly text: string) {
    this.lines = text.split('\n');
  }

  line(n: number): string {
    return this.lines[n - 1] ?? '';
  }

  /** The span of a line's code without leading or trailing blanks or a trailing // comment. */
  codeSpan(n: number): { column: number; endColumn: number } {
    const raw = this.line(n);
    const withoutComment = raw.replace(/\s*\/\/.*$/, '').replace(/\s*\/\*.*?\*\/\s*$/, '');
    const start = raw.length - raw.trimStart().length;
    const end = withoutComment.trimEnd().length;
    return end > start ? { column: start + 1, endColumn: end + 1 } : { column: 1, endColumn: raw.length + 1 };
  }

  /** First line (1-based) whose text matches, searching from `from` in the given direction. */
  find(pattern: RegExp, from = 1, direction: 1 | -1 = 1): number | undefined {
    for (let n = from; n >= 1 && n <= this.lines.length; n += direction) {
      if (pattern.test(this.line(n))) return n;
    }
    return undefined;
  }

  /** The line that opens a function definition named `name`. */
  functionLine(name: string): number | undefined {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`\\b${escaped}\\s*\\(`);
    for (let n = 1; n <= this.lines.length; n++) {
      if (!pattern.test(this.line(n))) continue;
      const rest = this.lines.slice(n - 1, n + 5).join('\n');
      if (/\)\s*(?:\{|$)/m.test(rest.slice(rest.search(pattern))) && !/;\s*$/.test(this.line(n).trim())) return n;
    }
    return undefined;
  }

  /** The line of the SEC("section") that annotates the function at `functionLine`. */
  sectionLine(section: string, functionLine: number | undefined): number | undefined {
    const escaped = section.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`SEC\\(\\s*"${escaped}"\\s*\\)`);
    if (functionLine !== undefined) return this.find(pattern, functionLine, -1);
    return this.find(pattern);
  }
}
