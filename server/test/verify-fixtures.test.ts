import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLocalAgent, type AgentClient } from '@ebpf-studio/remote-agent';
import { kernelAvailable, requireKernel } from '@ebpf-studio/test-support';
import { verifySource } from '../src/index';
import { readFixture } from './fixture-spec';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures', 'verify');

function fixtureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return fixtureFiles(path);
    return name.endsWith('.bpf.c') ? [path] : [];
  });
}

interface KernelObject { id: number; name?: string }
function kernelObjects(kind: 'prog' | 'map'): KernelObject[] {
  return JSON.parse(execFileSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8' })) as KernelObject[];
}
function pins(): string[] {
  return execFileSync('find', ['/sys/fs/bpf', '-mindepth', '1', '-maxdepth', '3'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

const files = fixtureFiles(FIXTURES).sort();

describe('verifier fixtures (real kernel)', () => {
  let agent: AgentClient | undefined;
  const seenNames = new Set<string>();
  let pinsBefore: string[] = [];

  before(() => {
    if (!kernelAvailable()) return;
    agent = startLocalAgent({ log: (l) => process.stderr.write(`agent: ${l}\n`) });
    pinsBefore = pins();
  });
  after(() => agent?.dispose());

  test('the corpus has at least 22 rejected and 8 accepted programs', () => {
    const specs = files.map(readFixture);
    assert.ok(specs.filter((s) => s.expects.length > 0).length >= 22, 'rejected fixtures');
    assert.ok(specs.filter((s) => s.expects.length === 0).length >= 8, 'accepted fixtures');
  });

  for (const file of files) {
    const spec = readFixture(file);
    const label = file.slice(FIXTURES.length + 1);
    test(label, async (t) => {
      if (!requireKernel(t)) return;
      const report = await verifySource(spec.text, file, { agent: agent!, sets: spec.sets, ...(spec.caps ? { caps: spec.caps } : {}) });
      for (const p of report.programs) seenNames.add(p.name.slice(0, 15));
      const errors = report.diagnostics.filter((d) => d.severity === 'error');
      const describe = (): string => JSON.stringify(report.diagnostics.map((d) => `${d.line}:${d.code} ${d.kernelMessage}`));
      for (const declared of spec.programs) {
        const p = report.programs.find((x) => x.name === declared.name);
        assert.ok(p, `program ${declared.name} is reported`);
        assert.equal(p.verdict, declared.verdict, `verdict of ${declared.name}: ${describe()}`);
      }
      if (spec.expects.length === 0) {
        assert.deepEqual(errors, [], 'an accepted fixture has no errors');
        assert.ok(report.programs.length > 0 && report.programs.every((p) => p.verdict === 'accepted'), `all programs accepted: ${JSON.stringify(report.programs)}`);
        return;
      }
      for (const e of spec.expects) {
        const forProgram = e.program ? errors.filter((d) => d.program === e.program) : errors;
        assert.ok(forProgram.length > 0, `an error for ${e.program ?? 'the file'}: ${describe()}`);
        const rootCause = e.program ? forProgram[0]! : forProgram.find((d) => d.code === e.code) ?? forProgram[0]!;
        assert.equal(rootCause.code, e.code, `code: ${describe()}`);
        assert.equal(rootCause.line, e.line, `line of ${e.code}: ${describe()}`);
        assert.ok(rootCause.explanation && rootCause.fix, 'explained with a fix');
        const repeats = report.diagnostics.filter((d) => d !== rootCause && d.source === 'libbpf' && d.program === rootCause.program && d.line === rootCause.line);
        assert.deepEqual(repeats, [], `nothing from libbpf repeats the root cause on its line: ${describe()}`);
      }
      assert.equal(report.ok, false);
    });
  }

  test('verification left no pin, program or map behind', async (t) => {
    if (!requireKernel(t)) return;
    assert.deepEqual(pins(), pinsBefore, 'pins under /sys/fs/bpf');
    const deadline = Date.now() + 5000;
    let left: KernelObject[] = [];
    do {
      left = [...kernelObjects('prog'), ...kernelObjects('map')].filter((o) => o.name !== undefined && seenNames.has(o.name));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    assert.deepEqual(left, [], 'kernel objects named like fixture programs');
  });
});
