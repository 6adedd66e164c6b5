import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { readKernelKfuncs } from '@ebpf-studio/libbpf-ts';
import { compileBpf, kernelAvailable, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { AgentError, startLocalAgent, type AgentClient } from '../src/index';

const KERNEL_DATA = join(__dirname, '..', '..', '..', 'libbpf-ts', 'test', 'data', 'kernel');

function objectBase64(name: string): string {
  return readFileSync(compileBpf(join(KERNEL_DATA, `${name}.bpf.c`), tempDir())).toString('base64');
}

describe('local agent over JSON-RPC (real kernel)', () => {
  let agent: AgentClient | undefined;
  before(() => {
    if (kernelAvailable()) agent = startLocalAgent();
  });
  after(() => agent?.dispose());

  test('info names the kernel and libbpf and finds no problem as root', async (t) => {
    if (!requireKernel(t)) return;
    const info = await agent!.info();
    assert.equal(info.kernelRelease, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    assert.match(info.libbpfVersion ?? '', /^1\.\d+$/);
    assert.deepEqual(info.problems, []);
    assert.ok(info.interfaces?.some((i) => i.name === 'lo' && i.ifindex === 1), 'interfaces with their index');
    assert.match(info.cgroup2 ?? '', /^\/sys\/fs\/cgroup/);
    assert.equal(typeof info.features?.['tcx'], 'boolean');
    assert.ok(Array.isArray(info.links));
  });

  test('helper availability per program type comes from this kernel', async (t) => {
    if (!requireKernel(t)) return;
    const SKB_STORE_BYTES = 9;
    const MAP_LOOKUP_ELEM = 1;
    const result = await agent!.helpers({ progTypes: ['xdp', 'sched_cls'], helperIds: [MAP_LOOKUP_ELEM, SKB_STORE_BYTES] });
    assert.deepEqual(result['xdp'], [MAP_LOOKUP_ELEM]);
    assert.deepEqual(result['sched_cls'], [MAP_LOOKUP_ELEM, SKB_STORE_BYTES]);
  });

  test('kfuncs come from this kernel\'s BTF, listed by the agent', async (t) => {
    if (!requireKernel(t)) return;
    assert.deepEqual(await agent!.kfuncs(), readKernelKfuncs());
  });

  test('caps mode verifies as a CAP_BPF+CAP_NET_ADMIN loader would', async (t) => {
    if (!requireKernel(t)) return;
    const object = objectBase64('uninit-stack');
    const asRoot = await agent!.verify({ object });
    assert.equal(asRoot.programs[0]!.verdict, 'accepted', 'root may read uninitialised stack');
    const reduced = await agent!.verify({ object, caps: 'bpf,net_admin' });
    assert.equal(reduced.programs[0]!.verdict, 'rejected');
    assert.match(reduced.programs[0]!.log!, /invalid (indirect )?read from stack/);
  });

  test('a cancelled verification is stopped and the next one still works', async (t) => {
    if (!requireKernel(t)) return;
    const slow = objectBase64('too-complex');
    const source = new CancellationTokenSource();
    const started = Date.now();
    const pending = agent!.verify({ object: slow }, source.token);
    setTimeout(() => source.cancel(), 300);
    await assert.rejects(pending, (err: unknown) => err instanceof AgentError && /cancel/i.test(err.message));
    assert.ok(Date.now() - started < 3000, 'cancel does not wait for the verifier to finish');
    const next = await agent!.verify({ object: objectBase64('three-programs') });
    assert.deepEqual(next.programs.map((p) => p.verdict), ['accepted', 'rejected', 'accepted']);
  });

  test('a verification over its time budget is stopped with a message that says so', async (t) => {
    if (!requireKernel(t)) return;
    await assert.rejects(agent!.verify({ object: objectBase64('too-complex'), timeoutMs: 200 }), /longer than 200 ms/);
  });

  test('bad input: garbage bytes give a clear verdict, not a crash', async (t) => {
    if (!requireKernel(t)) return;
    const result = await agent!.verify({ object: Buffer.from('not an ELF object').toString('base64') });
    assert.deepEqual(result.programs, []);
    assert.match(result.openError ?? '', /libbpf could not open the object/);
    const info = await agent!.info();
    assert.ok(info.kernelRelease, 'the agent still answers');
  });
});
