import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { mapUpdateBatch, readBpfObject, testRun } from '@ebpf-studio/libbpf-ts';
import { startLocalAgent, type AgentClient } from '@ebpf-studio/remote-agent';
import { kernelAvailable } from '@ebpf-studio/test-support';
import { verifySource } from '../src/index';
import { commonHeadersDir } from '../src/policy';
import { compileTemplate, template, TEMPLATES_DIR } from './template-socket-harness';

/**
 * Shared by the tests of the packet templates (xdp-maglev-gateway, tc-cluster-nat, cgroup-skb-policy), which
 * drive their programs with BPF_PROG_TEST_RUN: the compiled object and an agent per suite, the manifest
 * check, the verifier run, and the byte layouts their maps share.
 */

export interface TemplateSuite {
  /** The template's object, compiled once before the suite's tests. */
  readonly bytes: Uint8Array;
  /** A local agent for verifySource, when the kernel can be used (undefined otherwise). */
  readonly agent: AgentClient | undefined;
}

/** Call inside `describe`: compiles the template before its tests and starts an agent, disposed after them. */
export function templateSuite(name: string): TemplateSuite {
  const suite: { bytes: Uint8Array; agent: AgentClient | undefined } = { bytes: new Uint8Array(), agent: undefined };
  before(() => {
    suite.bytes = compileTemplate(name);
    if (kernelAvailable()) suite.agent = startLocalAgent();
  });
  after(() => suite.agent?.dispose());
  return suite;
}

/** template.json against the object: programs and sections, maps and their types, the settings and defaults, and the files it names exist. */
export function checkManifest(name: string, bytes: Uint8Array): void {
  const manifest = template(name);
  const { spec } = readBpfObject(bytes);
  assert.deepEqual(spec.programs.map((p) => [p.name, p.section]), manifest.programs.map((p) => [p.name, p.section]));
  const maps = (rows: string[][]): string[][] => rows.sort((a, b) => a[0]!.localeCompare(b[0]!));
  assert.deepEqual(maps(spec.maps.map((m) => [m.name, m.type, m.keyType ?? '', m.valueType ?? ''])), maps(manifest.maps.map((m) => [m.name, m.type, m.key ?? '', m.value])));
  const settings = spec.globals.filter((g) => g.section === '.rodata');
  assert.deepEqual(settings.map((g) => [g.name, g.typeName.replace(/^const volatile /, '')]), manifest.parameters.map((p) => [p.name, p.type]));
  for (const p of manifest.parameters) if (typeof p.default === 'number') assert.equal(Number(settings.find((g) => g.name === p.name)!.initialValue), p.default, p.name);
  for (const f of [...manifest.files, ...manifest.commonHeaders.map((h) => join('..', 'common', h))]) assert.ok(existsSync(join(manifest.dir, f)), f);
}

/** The template's program through verifySource, as `ebpf-studio verify` sees it (common headers on the include path). */
export function verifyTemplate(name: string, suite: TemplateSuite, sets: Record<string, string>): ReturnType<typeof verifySource> {
  const file = join(template(name).dir, template(name).source);
  return verifySource(readFileSync(file, 'utf8'), file, { agent: suite.agent!, includePaths: [commonHeadersDir(TEMPLATES_DIR)], sets });
}

/** One BPF_PROG_TEST_RUN of a frame: the program's return value and the frame as it left. */
export function runFrame(prog: number, frame: Uint8Array): { retval: number; out: Uint8Array } {
  const r = testRun(prog, { dataIn: frame });
  return { retval: r.retval, out: r.dataOut };
}

/** A __u32 as a map key or value (host order: little-endian). */
export function u32(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return new Uint8Array(b);
}

/** A per-CPU value's __u64 at `offset`, summed over CPUs (0 when the lookup found nothing). */
export function perCpuSum(values: Uint8Array[] | undefined, offset = 0): number {
  return (values ?? []).reduce((n, v) => n + Number(Buffer.from(v).readBigUInt64LE(offset)), 0);
}

/** Writes a Maglev table into ring `ring` of a rings array map (slot i of the ring at ring × table.length + i); answers the entries written. */
export function fillRing(fd: number, ring: number, table: Uint32Array): number {
  const keys = new Uint8Array(table.length * 4);
  const values = new Uint8Array(table.buffer.slice(table.byteOffset, table.byteOffset + table.byteLength));
  const view = new DataView(keys.buffer);
  for (let i = 0; i < table.length; i++) view.setUint32(i * 4, ring * table.length + i, true);
  return mapUpdateBatch(fd, keys, values, table.length);
}
