import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compileBpf, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { readBpfObject, verifyObject } from '../src/index';

const DATA = join(__dirname, '..', '..', 'test', 'data', 'kernel');

function object(name: string): Uint8Array {
  return readFileSync(compileBpf(join(DATA, `${name}.bpf.c`), tempDir()));
}

describe('verifyObject (real kernel)', () => {
  test('one verdict per program: the middle of three is rejected, the others accepted', (t) => {
    if (!requireKernel(t)) return;
    const result = verifyObject(object('three-programs'));
    assert.deepEqual(result.programs.map((p) => [p.name, p.verdict]), [['first', 'accepted'], ['second', 'rejected'], ['third', 'accepted']]);
    const [first, second, third] = result.programs;
    assert.ok(first!.insnsProcessed! > 0 && third!.insnsProcessed! > 0, 'accepted programs carry stats');
    assert.match(second!.log!, /R0 invalid mem access 'map_value_or_null'/);
    assert.match(second!.log!, /; .* @ three-programs\.bpf\.c:\d+/);
    assert.equal(second!.logTruncated, false);
    assert.equal(third!.progType, 'sched_cls');
  });

  test('a const volatile setting changes the verdict', (t) => {
    if (!requireKernel(t)) return;
    const bytes = object('settable');
    const variable = readBpfObject(bytes).spec.globals.find((g) => g.name === 'connect_verdict')!;
    assert.ok(variable, 'the reader finds the setting');
    const patch = (value: number) => ({ section: variable.section, offset: variable.offset, bytes: new Uint8Array(new Int32Array([value]).buffer), variable: variable.name });
    assert.equal(verifyObject(bytes, { patches: [patch(1)] }).programs[0]!.verdict, 'accepted');
    const rejected = verifyObject(bytes, { patches: [patch(5)] }).programs[0]!;
    assert.equal(rejected.verdict, 'rejected');
    assert.match(rejected.log!, /should have been in \[0, 1\]/);
  });

  test('only this program: others are not loaded, and the log can be level 2', (t) => {
    if (!requireKernel(t)) return;
    const result = verifyObject(object('three-programs'), { programs: ['second'], logLevel: 2 });
    assert.deepEqual(result.programs.map((p) => p.name), ['second']);
    assert.match(result.programs[0]!.log!, /from \d+ to \d+|R1=ctx|frame/);
  });

  test('a rotating log keeps the tail with the error when the buffer is small', (t) => {
    if (!requireKernel(t)) return;
    const result = verifyObject(object('too-complex'), { logSize: 256 * 1024 });
    const p = result.programs[0]!;
    assert.equal(p.verdict, 'rejected');
    assert.equal(p.logTruncated, true);
    assert.match(p.log!, /BPF program is too large|infinite loop/);
    assert.ok(p.log!.length <= 256 * 1024);
  });
});
