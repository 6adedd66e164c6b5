import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireKernel } from '@ebpf-studio/test-support';
import { NotSupportedError } from '../src/errors';
import { attachKprobe, attachRawTracepoint, attachTracepoint } from '../src/kernel/attach/tracing';
import { kernelFeatures } from '../src/kernel/features';
import { mapLookup, mapUpdate } from '../src/kernel/maps';
import type { LoadedObject } from '../src/kernel/loaded-object';
import { loadFixture, readU64, u32 } from './data/attach/fixtures';

const SEQ = 0;

function seq(object: LoadedObject): bigint {
  return readU64(mapLookup(object.map('stats').fd, u32(SEQ)));
}

describe('tracing attachments', () => {
  test('kprobe: attaches where the kernel has kprobes, else a NotSupportedError that names the way out', (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('events', { programs: ['on_nanosleep'] });
    try {
      const features = kernelFeatures();
      t.diagnostic(`kprobes: ${features.kprobe}, kprobe_multi: ${features.kprobeMulti}, lockdown: ${features.lockdown}`);
      if (!features.kprobe || features.lockdown === 'confidentiality') {
        assert.throws(
          () => attachKprobe(object.program('on_nanosleep'), 'do_nanosleep'),
          (err: unknown) => err instanceof NotSupportedError && /CONFIG_KPROBES|lockdown/.test(err.message) && /tracepoint/.test(err.message),
        );
        return;
      }
      const kprobe = attachKprobe(object.program('on_nanosleep'), 'do_nanosleep');
      kprobe.detach();
    } finally {
      object.close();
    }
  });

  test('tracepoint syscalls/sys_enter_getppid sees this process calling getppid()', (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('events', { programs: ['on_getppid'] });
    try {
      mapUpdate(object.map('target').fd, u32(0), u32(process.pid));
      const started = performance.now();
      const tp = attachTracepoint(object.program('on_getppid'), 'syscalls', 'sys_enter_getppid');
      t.diagnostic(`tracepoint attach: ${(performance.now() - started).toFixed(2)} ms, link ${tp.linkId}`);
      try {
        assert.equal(tp.kind, 'tracepoint');
        for (let i = 0; i < 100; i++) assert.ok(process.ppid > 0);
        assert.equal(seq(object), 100n);
      } finally {
        tp.detach();
      }
      for (let i = 0; i < 10; i++) assert.ok(process.ppid > 0);
      assert.equal(seq(object), 100n, 'nothing is counted after detach');
    } finally {
      object.close();
    }
  });

  test('raw tracepoint sys_enter counts syscalls until detached', async (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('events', { programs: ['on_sys_enter'] });
    try {
      const raw = attachRawTracepoint(object.program('on_sys_enter'), 'sys_enter');
      await sleep(20);
      raw.detach();
      const counted = seq(object);
      assert.ok(counted > 0n, 'syscalls were seen');
      await sleep(20);
      assert.equal(seq(object), counted);
    } finally {
      object.close();
    }
  });
});
