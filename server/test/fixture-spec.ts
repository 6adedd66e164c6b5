import { readFileSync } from 'node:fs';

/** What a fixture file declares about itself in `// fixture:`, `// expect:` and `// note:` comments. */
export interface FixtureSpec {
  path: string;
  text: string;
  caps?: string;
  sets: Record<string, string>;
  programs: { name: string; verdict: string }[];
  expects: { line: number; code: string; program?: string }[];
  /** `// note: TEXT`: a related location of the root cause on this line, its message starting with TEXT. */
  notes: { line: number; text: string }[];
}

export function readFixture(path: string): FixtureSpec {
  const text = readFileSync(path, 'utf8');
  const spec: FixtureSpec = { path, text, sets: {}, programs: [], expects: [], notes: [] };
  text.split('\n').forEach((line, i) => {
    const fixture = /\/\/\s*fixture:\s*(.*)$/.exec(line);
    if (fixture) {
      const body = fixture[1]!.trim();
      const caps = /^caps=(\S+)/.exec(body);
      const set = /^set=([^=\s]+)=(\S+)/.exec(body);
      const program = /^program=(\S+)\s+verdict=(\S+)/.exec(body);
      if (caps) spec.caps = caps[1]!;
      if (set) spec.sets[set[1]!] = set[2]!;
      if (program) spec.programs.push({ name: program[1]!, verdict: program[2]! });
    }
    const expect = /\/[/*]\s*expect:\s*([A-Z][A-Z0-9-]+)(?:\s+program=(\S+))?/.exec(line);
    if (expect) spec.expects.push({ line: i + 1, code: expect[1]!, ...(expect[2] ? { program: expect[2] } : {}) });
    const note = /\/\/\s*note:\s*(.+?)\s*$/.exec(line);
    if (note) spec.notes.push({ line: i + 1, text: note[1]! });
  });
  return spec;
}
