import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { readBpfObject } from '../../../src/index';
import { LoadedObject, type LoadOptions } from '../../../src/kernel/loaded-object';
import type { InitialValuePatch } from '../../../src/kernel/verify-object';

/** The BPF C sources next to this file, compiled once per process. */
const SOURCES = join(__dirname, '..', '..', '..', '..', 'test', 'data', 'attach');
const compiled = new Map<string, Uint8Array>();

export function fixtureBytes(name: string): Uint8Array {
  let bytes = compiled.get(name);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(compileBpf(join(SOURCES, `${name}.bpf.c`), tempDir())));
    compiled.set(name, bytes);
  }
  return bytes;
}

/** Patches for `const volatile` settings, encoded little-endian by each variable's size. */
export function settings(bytes: Uint8Array, values: Record<string, number>): InitialValuePatch[] {
  const { spec } = readBpfObject(bytes);
  return Object.entries(values).map(([name, value]) => {
    const variable = spec.globals.find((g) => g.name === name);
    if (!variable) throw new Error(`no global ${name}`);
    const buf = Buffer.alloc(variable.size);
    buf.writeUIntLE(value >>> 0, 0, variable.size);
    return { section: variable.section, offset: variable.offset, bytes: new Uint8Array(buf), variable: name };
  });
}

/** Loads a fixture with settings; close it (or let the test's finally do it). */
export function loadFixture(name: string, options: Omit<LoadOptions, 'patches'> & { settings?: Record<string, number> } = {}): LoadedObject {
  const bytes = fixtureBytes(name);
  const { settings: values, ...rest } = options;
  return LoadedObject.load(bytes, { ...rest, ...(values ? { patches: settings(bytes, values) } : {}) });
}

export function u32(n: number): Uint8Array {
  return new Uint8Array(new Uint32Array([n]).buffer);
}

export function readU64(bytes: Uint8Array | undefined, offset = 0): bigint {
  if (!bytes) return -1n;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}
