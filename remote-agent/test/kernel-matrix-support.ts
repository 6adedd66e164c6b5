/**
 * The kernel-matrix fixtures (server/test/fixtures/kernel-matrix, format in its README): what each file
 * declares for a kernel release and what a report shows, in the same shape. Shared by the VM tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { REPO, type EngineReport } from './ssh-support';

export const KERNEL_MATRIX = join(REPO, 'server', 'test', 'fixtures', 'kernel-matrix');

/** One `// kernel<X.Y:` or `// kernel>=X.Y:` condition (README.md in the fixture directory). */
export interface KernelCondition {
  readonly text: string;
  readonly op: '<' | '>=';
  readonly major: number;
  readonly minor: number;
}

export interface MatrixFixture {
  readonly name: string;
  readonly path: string;
  readonly text: string;
  readonly accepted: KernelCondition[];
  readonly expects: { condition: KernelCondition; line: number; code: string }[];
}

export type Expected = { accepted: true } | { accepted: false; errors: string[] };

const DIRECTIVE = /\/\/\s*kernel(<|>=)(\d+)\.(\d+):\s*(?:(accepted)|expect\s+([A-Z][A-Z0-9-]+))\s*$/;

export function readMatrixFixture(name: string): MatrixFixture {
  const path = join(KERNEL_MATRIX, name);
  const text = readFileSync(path, 'utf8');
  const fixture: MatrixFixture = { name, path, text, accepted: [], expects: [] };
  text.split('\n').forEach((line, i) => {
    const m = DIRECTIVE.exec(line);
    if (!m) return;
    const condition: KernelCondition = { text: `kernel${m[1]}${m[2]}.${m[3]}`, op: m[1] as KernelCondition['op'], major: Number(m[2]), minor: Number(m[3]) };
    if (m[4]) fixture.accepted.push(condition);
    else fixture.expects.push({ condition, line: i + 1, code: m[5]! });
  });
  return fixture;
}

function holds(c: KernelCondition, release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`kernel release ${release} has no major.minor`);
  const below = Number(m[1]) < c.major || (Number(m[1]) === c.major && Number(m[2]) < c.minor);
  return c.op === '<' ? below : !below;
}

/** What a fixture declares for `release`: accepted, or the error diagnostics as `CODE@line`. */
export function expectationFor(f: MatrixFixture, release: string): Expected {
  const accepted = f.accepted.filter((c) => holds(c, release));
  const errors = f.expects.filter((e) => holds(e.condition, release)).map((e) => `${e.code}@${e.line}`);
  if (accepted.length > 0 && errors.length > 0) throw new Error(`${f.name}: kernel ${release} is declared accepted (${accepted[0]!.text}) and rejected (${errors.join(', ')})`);
  if (accepted.length > 0) return { accepted: true };
  if (errors.length === 0) throw new Error(`${f.name} declares nothing for kernel ${release}: add a \`// kernel…: accepted\` or \`// kernel…: expect CODE\` line`);
  return { accepted: false, errors: errors.sort() };
}

/** The report as a fixture states it: accepted, or not, with its error diagnostics. */
export function observed(report: EngineReport): Expected {
  const errors = report.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}`).sort();
  return report.programs.length > 0 && report.programs.every((p) => p.verdict === 'accepted') && errors.length === 0 ? { accepted: true } : { accepted: false, errors };
}

/** One fixture verified on this machine and on the node, each timed. */
export interface FixtureRun {
  name: string;
  fixture: MatrixFixture;
  here: EngineReport;
  there: EngineReport;
  localMs: number;
  nodeMs: number;
}

/** Every kernel-matrix fixture, in name order, verified on this machine and then on the node. */
export async function* verifyEachFixture<A>(verify: (text: string, path: string, options: { agent: A }) => Promise<EngineReport>, local: A, node: A): AsyncGenerator<FixtureRun> {
  for (const name of readdirSync(KERNEL_MATRIX).filter((f) => f.endsWith('.bpf.c')).sort()) {
    const fixture = readMatrixFixture(name);
    let at = performance.now();
    const here = await verify(fixture.text, fixture.path, { agent: local });
    const localMs = performance.now() - at;
    at = performance.now();
    const there = await verify(fixture.text, fixture.path, { agent: node });
    yield { name, fixture, here, there, localMs, nodeMs: performance.now() - at };
  }
}

/** How a report on `kernel` differs from what the fixture declares for it, or undefined when it does not. */
export function expectationMismatch(run: FixtureRun, kernel: string, report: EngineReport): string | undefined {
  const expected = expectationFor(run.fixture, kernel);
  const seen = observed(report);
  return isDeepStrictEqual(seen, expected) ? undefined : `${run.name} on ${kernel}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(seen)}`;
}
