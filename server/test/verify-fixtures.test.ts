import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
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

function pins(): string[] {
  return execFileSync('find', ['/sys/fs/bpf', '-mindepth', '1', '-maxdepth', '3'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** The maps a fixture declares (`} name SEC(".maps")`). */
function declaredMaps(text: string): string[] {
  return [...text.matchAll(/\}\s*(\w+)\s+SEC\("\.?maps"\)/g)].map((m) => m[1]!);
}

/** The processes under this one: the local agent and its verify workers. */
function descendants(): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  for (let queue = [process.pid]; queue.length > 0; ) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** The BPF programs, maps and links those processes hold open, as "pid: anon_inode:bpf-prog" lines. */
function bpfFdsOfDescendants(): string[] {
  return descendants().flatMap((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
          return /^anon_inode:bpf[-_](prog|map|link)$/.test(target) ? [`${pid}: ${target}`] : [];
        } catch {
          return [];
        }
      });
    } catch {
      return [];
    }
  });
}

const files = fixtureFiles(FIXTURES).sort();

describe('verifier fixtures (real kernel)', () => {
  let agent: AgentClient | undefined;
  const names = new Set<string>();
  let pinsBefore = new Set<string>();

  before(() => {
    if (!kernelAvailable()) return;
    agent = startLocalAgent({ log: (l) => process.stderr.write(`agent: ${l}\n`) });
    pinsBefore = new Set(pins());
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
      for (const name of [...report.programs.map((p) => p.name), ...declaredMaps(spec.text)]) names.add(name);
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
      const related = errors.flatMap((d) => d.related);
      for (const note of spec.notes) {
        assert.ok(related.some((r) => r.line === note.line && r.message.startsWith(note.text)), `a note on line ${note.line} saying "${note.text}": ${JSON.stringify(related.map((r) => `${r.line}: ${r.message}`))}`);
      }
      assert.equal(report.ok, false);
    });
  }

  test('verification left no pin, program or map behind', async (t) => {
    if (!requireKernel(t)) return;
    // Other test files pin and load at the same time: only pins named like the fixtures' programs and maps
    // count, and only what this file's agent holds open.
    const newPins = pins().filter((p) => !pinsBefore.has(p) && names.has(basename(p)));
    assert.deepEqual(newPins, [], 'pins under /sys/fs/bpf named like fixture programs or maps');
    assert.ok(descendants().length >= 1, 'the local agent runs under this process');
    assert.deepEqual(bpfFdsOfDescendants(), [], 'BPF programs, maps and links the agent and its workers hold open');
  });
});
