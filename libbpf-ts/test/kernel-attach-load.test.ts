import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compileBpf, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { VerifierError } from '../src/errors';
import { kernelFeatures } from '../src/kernel/features';
import { LoadedObject } from '../src/kernel/loaded-object';
import { fixtureBytes, loadFixture } from './data/attach/fixtures';

function progExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)]).status === 0;
}

describe('LoadedObject and kernelFeatures', () => {
  test('keeps programs and maps loaded with their kernel ids until close()', (t) => {
    if (!requireKernel(t)) return;
    const started = performance.now();
    const object = loadFixture('counters');
    t.diagnostic(`load: ${(performance.now() - started).toFixed(1)} ms`);
    try {
      assert.deepEqual(object.programs.map((p) => [p.name, p.section, p.progType, p.expectedAttachType]), [['xdp_count', 'xdp', 'xdp', 37], ['tc_count', 'tc', 'sched_cls', 0]]);
      assert.ok(object.programs.every((p) => p.fd > 0 && p.id > 0 && progExists(p.id)));
      assert.deepEqual(object.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]).slice(0, 2), [['counts', 'array', 4, 8, 2], ['cpu_counts', 'percpu_array', 4, 8, 2]]);
      assert.throws(() => object.program('nope'), /choose from xdp_count, tc_count/);
    } finally {
      object.close();
      object.close();
    }
    assert.ok(object.programs.every((p) => !progExists(p.id)), 'close() freed the programs');
  });

  test('loads only the programs asked for, and names unknown ones', (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('counters', { programs: ['tc_count'] });
    try {
      assert.deepEqual(object.programs.map((p) => p.name), ['tc_count']);
    } finally {
      object.close();
    }
    assert.throws(() => LoadedObject.load(fixtureBytes('counters'), { programs: ['xdp_cont'] }), /no program named xdp_cont.*choose from xdp_count, tc_count/);
  });

  test('a rejected program throws VerifierError with the verifier log', (t) => {
    if (!requireKernel(t)) return;
    const source = join(__dirname, '..', '..', 'test', 'data', 'kernel', 'three-programs.bpf.c');
    const bytes = readFileSync(compileBpf(source, tempDir()));
    assert.throws(
      () => LoadedObject.load(bytes),
      (err: unknown) => err instanceof VerifierError && /rejected program 'second'/.test(err.message) && /map_value_or_null/.test(err.log),
    );
  });

  test('kernelFeatures is probed once, quickly, without leaving anything', (t) => {
    if (!requireKernel(t)) return;
    const started = performance.now();
    const features = kernelFeatures();
    t.diagnostic(`${JSON.stringify(features)} in ${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(kernelFeatures(), features);
    assert.equal(typeof features.tcx, 'boolean');
    assert.equal(features.ringBuffer, true);
  });
});
