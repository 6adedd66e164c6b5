import { isIPv6 } from 'node:net';
import type { InitialValuePatchWire } from '@ebpf-studio/remote-agent';
import { ipAddressBytes } from '../policy/address';
import { UsageError } from './usage-error';

export interface GlobalVariable {
  name: string;
  section: string;
  offset: number;
  size: number;
  typeName: string;
  isConst: boolean;
}

function parseValue(raw: string, variable: GlobalVariable): bigint {
  const text = raw.trim().toLowerCase();
  if (text === 'true') return 1n;
  if (text === 'false') return 0n;
  if (!/^-?(0x[0-9a-f]+|0b[01]+|0o?[0-7]+|\d+)$/.test(text)) {
    if (variable.size === 16) throw new UsageError(`--set ${variable.name}=${raw}: not an IPv6 address`, `give an IPv6 address such as fd00::1 for ${variable.typeName} ${variable.name}`);
    throw new UsageError(`--set ${variable.name}=${raw}: not an integer`, `give a decimal or 0x hexadecimal number for ${variable.typeName} ${variable.name}`);
  }
  const negative = text.startsWith('-');
  const magnitude = BigInt(negative ? text.slice(1) : text);
  return negative ? -magnitude : magnitude;
}

function encode(value: bigint, size: number, name: string): Uint8Array {
  if (![1, 2, 4, 8].includes(size)) {
    throw new UsageError(`--set ${name}: a ${size}-byte variable cannot be set from the command line`, size === 16 ? 'a 16-byte variable takes an IPv6 address (network byte order), e.g. fd00::1' : 'only integer and bool settings (1, 2, 4 or 8 bytes) can be set');
  }
  const bits = BigInt(size * 8);
  const min = -(1n << (bits - 1n));
  const max = (1n << bits) - 1n;
  if (value < min || value > max) throw new UsageError(`--set ${name}: ${value} does not fit in ${size} bytes`);
  const bytes = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytes;
}

/** Turn NAME=VALUE settings into initial-value patches of the object's data sections. */
export function settingsToPatches(sets: Readonly<Record<string, string>>, globals: readonly GlobalVariable[]): InitialValuePatchWire[] {
  return Object.entries(sets).map(([name, raw]) => {
    const variable = globals.find((g) => g.name === name);
    if (!variable) {
      const settable = globals.map((g) => g.name);
      throw new UsageError(
        `--set ${name}: the program has no global variable '${name}'`,
        settable.length > 0 ? `settable variables: ${settable.join(', ')}` : 'declare it as `const volatile <type> NAME = <default>;` in the program',
      );
    }
    const bytes = variable.size === 16 && isIPv6(raw.trim()) ? ipAddressBytes(raw.trim())!.bytes : encode(parseValue(raw, variable), variable.size, name);
    return { section: variable.section, offset: variable.offset, bytes: Buffer.from(bytes).toString('base64'), variable: name };
  });
}
