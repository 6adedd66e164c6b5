import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { formatValue } from '../src/btf/format-value';
import { readBpfObject } from '../src/elf/read-object';
import type { ReadProblem } from '../src/elf/problems';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');
const outDir = tempDir();
const objects = ['xdp_hash', 'connect4_array', 'types', 'subprog'].map((name) => readFileSync(compileBpf(join(SOURCES, `${name}.bpf.c`), outDir)));

/** A small seeded generator (mulberry32), so every run feeds the same "random" input. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads bytes, failing the test if the reader threw or had to catch its own exception. */
function readSafely(bytes: Uint8Array, label: string): ReturnType<typeof readBpfObject> {
  const result = readBpfObject(bytes);
  const internal = result.problems.find((p) => p.message.startsWith('internal error'));
  assert.equal(internal, undefined, `${label}: ${internal?.message}`);
  return result;
}

function errors(problems: ReadProblem[]): string[] {
  return problems.filter((p) => p.severity === 'error').map((p) => p.message);
}

test('empty bytes: one error naming how to build an object', () => {
  const { spec, problems } = readSafely(new Uint8Array(0), 'empty');
  assert.deepEqual(errors(problems), ['the object is empty (0 bytes): build it with `clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o`']);
  assert.deepEqual([spec.sections, spec.programs, spec.maps], [[], [], []]);
});

test('random garbage is not an ELF file', () => {
  const next = random(1);
  for (let i = 0; i < 200; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(next() * 4096) + 1 }, () => Math.floor(next() * 256));
    if (bytes[0] === 0x7f) bytes[0] = 0;
    const { problems } = readSafely(bytes, `garbage ${i}`);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /^not an ELF file .*`clang -O2 -g -target bpf/);
  }
});

test('garbage behind a valid ELF header never throws', () => {
  const next = random(2);
  for (let i = 0; i < 300; i++) {
    const bytes = Uint8Array.from({ length: 64 + Math.floor(next() * 2048) }, () => Math.floor(next() * 256));
    bytes.set(objects[0]!.subarray(0, 0x28));
    readSafely(bytes, `header + garbage ${i}`);
  }
});

test('a truncated object reports the truncation at every cut', () => {
  for (const object of objects) {
    for (let length = 1; length < object.length; length += length < 128 ? 1 : 13) {
      const { problems } = readSafely(object.subarray(0, length), `cut at ${length}`);
      assert.ok(errors(problems).some((m) => /truncated|runs past the end/.test(m)), `cut at ${length}: ${JSON.stringify(problems)}`);
    }
  }
});

test('flipped bytes anywhere in an object never make the reader throw', () => {
  const next = random(3);
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from(objects[i % objects.length]!);
    const flips = 1 + Math.floor(next() * 8);
    for (let f = 0; f < flips; f++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
    const { spec } = readSafely(bytes, `flip ${i}`);
    if (spec.btf && i % 10 === 0) {
      const value = Uint8Array.from({ length: 64 }, () => Math.floor(next() * 256));
      for (const type of spec.btf.types) formatValue(spec.btf, type.id, value);
    }
  }
});

test('a 32-bit ELF file is rejected with the fix', () => {
  const bytes = Uint8Array.from(objects[0]!);
  bytes[4] = 1;
  const { problems } = readSafely(bytes, '32-bit');
  assert.deepEqual(errors(problems), ['a 32-bit ELF file, but BPF objects are 64-bit ELF: build it with `clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o`']);
});

test('a non-BPF ELF file (/bin/true) is rejected with the fix', (t) => {
  if (!existsSync('/bin/true')) {
    t.skip('no /bin/true');
    return;
  }
  const { spec, problems } = readSafely(readFileSync('/bin/true'), '/bin/true');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^not a BPF object: the ELF machine is x86-64, not BPF; build it with `clang .*-target bpf/);
  assert.deepEqual(spec.sections, []);
});

test('a linked (non-relocatable) BPF ELF file is rejected with the fix', () => {
  const bytes = Uint8Array.from(objects[0]!);
  bytes[16] = 2;
  assert.match(errors(readSafely(bytes, 'ET_EXEC').problems)[0]!, /not a relocatable object .* do not link it/);
});
