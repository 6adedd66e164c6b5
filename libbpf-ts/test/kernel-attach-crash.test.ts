import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCgroup, createNetnsPair, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { detachRecord } from '../src/kernel/attach/detach-record';
import type { AttachRecord } from '../src/kernel/attach/attachment';

const DIST = join(__dirname, '..');

/** A loader that attaches links (XDP, tcx, cgroup) and a tc filter, reports them, then waits to be killed. */
const CHILD = `
  const [netns, ifindex, cgroupPath] = process.argv.slice(2);
  const { loadFixture } = require(${JSON.stringify(join(DIST, 'test/data/attach/fixtures'))});
  const { attachXdp } = require(${JSON.stringify(join(DIST, 'src/kernel/attach/xdp'))});
  const { attachTcx } = require(${JSON.stringify(join(DIST, 'src/kernel/attach/tcx'))});
  const { attachTcClsact } = require(${JSON.stringify(join(DIST, 'src/kernel/attach/tc-clsact'))});
  const { attachCgroup } = require(${JSON.stringify(join(DIST, 'src/kernel/attach/cgroup'))});
  const counters = loadFixture('counters');
  const connect = loadFixture('connect4');
  const links = [
    attachXdp(counters.program('xdp_count'), Number(ifindex), { mode: 'native', netns }),
    attachTcx(counters.program('tc_count'), Number(ifindex), 'egress', { netns }),
    attachCgroup(connect.program('connect_vip'), cgroupPath),
  ];
  const tc = attachTcClsact(counters.program('tc_count'), Number(ifindex), 'ingress', { netns });
  console.log(JSON.stringify({ links: links.map((l) => l.linkId), programs: [counters.program('xdp_count').id, connect.program('connect_vip').id], tc: tc.record }));
  setInterval(() => undefined, 1000);`;

function exists(kind: 'link' | 'prog', id: number): boolean {
  return spawnSync('bpftool', [kind, 'show', 'id', String(id)]).status === 0;
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

describe('a loader killed with SIGKILL', () => {
  test('leaves no link, XDP, tcx or cgroup program behind; its tc filter is undone from the journal record', async (t) => {
    if (!requireKernel(t)) return;
    const pair = createNetnsPair({ tag: 'crash' });
    const cgroup = createCgroup('crash');
    const script = join(tempDir(), 'loader.js');
    writeFileSync(script, CHILD);
    const child = spawn(process.execPath, [script, pair.a.netns!.path, String(pair.a.ifindex), cgroup.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const report = JSON.parse(line.toString()) as { links: number[]; programs: number[]; tc: AttachRecord };
      for (const id of report.links) assert.ok(exists('link', id), `link ${id} is up while the loader lives`);
      const ns = pair.a.netns!;
      assert.match(ns.exec('bpftool', ['net']), /xdp:\n\S+ driver id \d+/);

      child.kill('SIGKILL');
      await once(child, 'exit');
      const started = performance.now();
      await until('the links are gone', () => report.links.every((id) => !exists('link', id)));
      t.diagnostic(`links gone ${(performance.now() - started).toFixed(0)} ms after the loader died`);
      assert.doesNotMatch(ns.exec('bpftool', ['net']), /xdp:\n\S/);
      assert.equal(spawnSync('bpftool', ['cgroup', 'show', cgroup.path], { encoding: 'utf8' }).stdout.trim(), '');
      await until('the connect4 program is freed', () => !exists('prog', report.programs[1]!));

      const filters = (): string => ns.exec('tc', ['filter', 'show', 'dev', pair.a.ifname, 'ingress']);
      assert.match(filters(), /tc_count/, 'a tc filter is not a link: it outlives its loader');
      detachRecord(report.tc);
      detachRecord(report.tc);
      assert.equal(filters().trim(), '');
      await until('the XDP/tc program is freed', () => !exists('prog', report.programs[0]!));
    } finally {
      child.kill('SIGKILL');
      cgroup.remove();
      pair.remove();
    }
  });
});
