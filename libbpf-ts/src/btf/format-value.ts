import { latin1OrUtf8 } from '../elf/byte-reader';
import type { Btf } from './btf';
import { MAX_TYPE_DEPTH } from './btf-types';
import type { BtfMember, BtfType } from './btf-types';

/**
 * Decodes `bytes` as a value of BTF type `typeId` into plain JSON-friendly data:
 * integers up to 32 bits as numbers, wider ones as decimal strings, booleans, enums by name
 * (the number when no enumerator matches), pointers as hex strings, char arrays as strings,
 * structs and unions as objects (anonymous members merged in), arrays as arrays,
 * and a DATASEC as an object of its variables. Parts that fall outside `bytes` or that have
 * no value (void, functions, forward declarations) are null. Never throws.
 */
export function formatValue(btf: Btf, typeId: number, bytes: Uint8Array): unknown {
  return new ValueDecoder(btf, bytes).decode(typeId, 0, 0);
}

class ValueDecoder {
  constructor(private readonly btf: Btf, private readonly bytes: Uint8Array) {}

  decode(id: number, offset: number, depth: number): unknown {
    const type = this.btf.typeById(id);
    if (type === undefined || depth > MAX_TYPE_DEPTH) return null;
    switch (type.kind) {
      case 'INT':
        if (type.bitOffset !== 0 || type.bits !== type.size * 8) return this.bitfield(type, offset * 8 + type.bitOffset, type.bits);
        return this.integer(offset, type.size, type.isSigned, type.isBool);
      case 'ENUM':
      case 'ENUM64':
        return this.enumerator(type, this.unsigned(offset, type.size));
      case 'PTR': {
        const raw = this.unsigned(offset, 8);
        return raw === undefined ? null : `0x${raw.toString(16)}`;
      }
      case 'FLOAT':
        return this.float(offset, type.size);
      case 'ARRAY':
        return this.array(type.type, type.length, offset, depth);
      case 'STRUCT':
      case 'UNION':
        return this.composite(type.members, offset, depth);
      case 'DATASEC':
        return Object.fromEntries(
          type.vars.map((v) => [this.btf.typeById(v.type)?.name ?? `<type ${v.type}>`, this.decode(v.type, offset + v.offset, depth + 1)]),
        );
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
      case 'VAR':
        return this.decode(type.type, offset, depth + 1);
      default:
        return null;
    }
  }

  private composite(members: readonly BtfMember[], offset: number, depth: number): Record<string, unknown> {
    const entries: [string, unknown][] = [];
    for (const member of members) {
      const value = member.bitfieldSize !== 0 || member.bitOffset % 8 !== 0
        ? this.bitfieldMember(member, offset)
        : this.decode(member.type, offset + member.bitOffset / 8, depth + 1);
      if (member.name === '' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        entries.push(...Object.entries(value));
      } else {
        entries.push([member.name, value]);
      }
    }
    return Object.fromEntries(entries);
  }

  private bitfieldMember(member: BtfMember, offset: number): unknown {
    const type = this.btf.resolve(member.type);
    if (type === undefined) return null;
    const bitOffset = offset * 8 + member.bitOffset;
    if (type.kind === 'INT') return this.bitfield(type, bitOffset, member.bitfieldSize || type.bits);
    if (type.kind === 'ENUM' || type.kind === 'ENUM64') return this.enumerator(type, this.bits(bitOffset, member.bitfieldSize || type.size * 8));
    return null;
  }

  private bitfield(type: { isSigned: boolean; isBool: boolean }, bitOffset: number, width: number): unknown {
    const raw = this.bits(bitOffset, width);
    if (raw === undefined) return null;
    if (type.isBool) return raw !== 0n;
    return integerValue(type.isSigned ? BigInt.asIntN(width, raw) : raw, width);
  }

  private integer(offset: number, size: number, isSigned: boolean, isBool: boolean): unknown {
    const raw = this.unsigned(offset, size);
    if (raw === undefined) return null;
    if (isBool) return raw !== 0n;
    return integerValue(isSigned ? BigInt.asIntN(size * 8, raw) : raw, size * 8);
  }

  private enumerator(type: Extract<BtfType, { kind: 'ENUM' | 'ENUM64' }>, raw: bigint | undefined): unknown {
    if (raw === undefined) return null;
    const width = type.size * 8;
    const value = type.isSigned ? BigInt.asIntN(width, raw) : raw;
    const match = type.values.find((v) => BigInt(v.value) === value);
    return match ? match.name : integerValue(value, width);
  }

  private float(offset: number, size: number): unknown {
    if (offset < 0 || offset + size > this.bytes.length || (size !== 4 && size !== 8)) return null;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + offset, size);
    const value = size === 4 ? view.getFloat32(0, this.btf.littleEndian) : view.getFloat64(0, this.btf.littleEndian);
    return Number.isFinite(value) ? value : String(value);
  }

  private array(elementId: number, length: number, offset: number, depth: number): unknown {
    const elementSize = this.btf.sizeOf(elementId);
    if (elementSize === undefined) return null;
    if (this.isCharType(elementId)) {
      const end = Math.min(offset + length, this.bytes.length);
      const text = this.bytes.subarray(Math.max(offset, 0), Math.max(end, 0));
      const nul = text.indexOf(0);
      return latin1OrUtf8(nul === -1 ? text : text.subarray(0, nul));
    }
    if (elementSize === 0) return [];
    const fitting = Math.max(0, Math.min(length, Math.floor((this.bytes.length - offset) / elementSize)));
    const values: unknown[] = [];
    for (let i = 0; i < fitting; i++) values.push(this.decode(elementId, offset + i * elementSize, depth + 1));
    return values;
  }

  /** `char` (not `__u8` or `unsigned char`, which hold bytes) makes an array a string. */
  private isCharType(id: number): boolean {
    const type = this.btf.skipQualifiers(id);
    return type?.kind === 'INT' && type.size === 1 && (type.isChar || type.name === 'char');
  }

  private unsigned(offset: number, size: number): bigint | undefined {
    if (!Number.isInteger(offset) || offset < 0 || size <= 0 || offset + size > this.bytes.length) return undefined;
    let value = 0n;
    for (let i = 0; i < size; i++) {
      const byte = this.bytes[this.btf.littleEndian ? offset + size - 1 - i : offset + i]!;
      value = (value << 8n) | BigInt(byte);
    }
    return value;
  }

  /** `width` bits starting `bitOffset` bits into the buffer, in the target's bitfield order. */
  private bits(bitOffset: number, width: number): bigint | undefined {
    if (width <= 0) return undefined;
    const first = Math.floor(bitOffset / 8);
    const shift = bitOffset % 8;
    const span = Math.ceil((shift + width) / 8);
    const raw = this.unsigned(first, span);
    if (raw === undefined) return undefined;
    const mask = (1n << BigInt(width)) - 1n;
    const lowBit = this.btf.littleEndian ? shift : span * 8 - shift - width;
    return (raw >> BigInt(lowBit)) & mask;
  }
}

/** Up to 32 bits fit a JSON number exactly and read naturally; wider values become decimal strings. */
function integerValue(value: bigint, width: number): number | string {
  return width <= 32 ? Number(value) : value.toString();
}
