import { ByteReader } from '../elf/byte-reader';
import { readError, readWarning } from '../elf/problems';
import type { ReadProblem } from '../elf/problems';
import { Btf } from './btf';
import { BTF_KIND_BY_NUMBER } from './btf-types';
import type { BtfLinkage, BtfType } from './btf-types';

export const BTF_MAGIC = 0xeb9f;
const BTF_HEADER_MIN = 24;
const TYPE_HEADER_SIZE = 12;
const LINKAGE: readonly BtfLinkage[] = ['static', 'global', 'extern'];

/** Where a BTF blob keeps its strings: shared by .BTF types and the .BTF.ext records that name files and lines. */
export class BtfStrings {
  constructor(private readonly reader: ByteReader, private readonly start: number, private readonly length: number) {}

  at(offset: number): string | undefined {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.length) return undefined;
    return this.reader.cString(this.start + offset, this.start + this.length);
  }
}

export interface ParsedBtf {
  btf?: Btf;
  strings?: BtfStrings;
  problems: ReadProblem[];
}

/** Detects byte order from the magic number: BTF is written in the byte order of its target. */
export function btfByteOrder(bytes: Uint8Array): boolean | undefined {
  if (bytes.length < 2) return undefined;
  const le = bytes[0]! | (bytes[1]! << 8);
  if (le === BTF_MAGIC) return true;
  const be = (bytes[0]! << 8) | bytes[1]!;
  return be === BTF_MAGIC ? false : undefined;
}

/** Parses a .BTF section. Never throws: a malformed blob yields what could be read plus problems. */
export function parseBtf(bytes: Uint8Array): ParsedBtf {
  const problems: ReadProblem[] = [];
  const littleEndian = btfByteOrder(bytes);
  if (littleEndian === undefined) {
    return { problems: [readError('.BTF section has no BTF magic (0xeB9F): the object is corrupted; rebuild it with clang -g')] };
  }
  const r = new ByteReader(bytes, littleEndian);
  const version = r.u8(2);
  const headerLength = r.u32(4);
  if (headerLength === undefined || headerLength < BTF_HEADER_MIN || !r.has(0, headerLength)) {
    return { problems: [readError('.BTF header is truncated: the object is corrupted; rebuild it with clang -g')] };
  }
  if (version !== 1) problems.push(readWarning(`.BTF version is ${version}, this reader knows version 1: types may be misread`));
  const typeStart = headerLength + r.u32(8)!;
  const typeLength = r.u32(12)!;
  const stringStart = headerLength + r.u32(16)!;
  const stringLength = r.u32(20)!;
  if (!r.has(stringStart, stringLength)) {
    return { problems: [readError('.BTF string section runs past the end of .BTF: the object is truncated; rebuild it with clang -g')] };
  }
  const strings = new BtfStrings(r, stringStart, stringLength);
  if (!r.has(typeStart, typeLength)) {
    problems.push(readError('.BTF type section runs past the end of .BTF: the object is truncated; rebuild it with clang -g'));
    return { strings, problems };
  }

  const types: BtfType[] = [{ id: 0, kind: 'VOID', name: '' }];
  const typeEnd = typeStart + typeLength;
  let offset = typeStart;
  while (offset < typeEnd) {
    const id = types.length;
    const parsed = parseType(r, offset, typeEnd, id, strings, problems);
    if (parsed === undefined) break;
    types.push(parsed.type);
    offset = parsed.next;
  }
  return { btf: new Btf(types, littleEndian), strings, problems };
}

function parseType(
  r: ByteReader,
  offset: number,
  end: number,
  id: number,
  strings: BtfStrings,
  problems: ReadProblem[],
): { type: BtfType; next: number } | undefined {
  if (offset + TYPE_HEADER_SIZE > end) {
    problems.push(readError(`.BTF type [${id}] is cut short: the object is truncated; rebuild it with clang -g`));
    return undefined;
  }
  const nameOffset = r.u32(offset)!;
  const info = r.u32(offset + 4)!;
  const sizeOrType = r.u32(offset + 8)!;
  const vlen = info & 0xffff;
  const kindNumber = (info >>> 24) & 0x1f;
  const kindFlag = info >>> 31 === 1;
  const kind = BTF_KIND_BY_NUMBER[kindNumber];
  if (kind === undefined || kind === 'VOID') {
    problems.push(readError(`.BTF type [${id}] has unknown kind ${kindNumber}: the object was built for a newer BTF format than this reader knows; the remaining types are skipped`));
    return undefined;
  }
  const name = nameAt(strings, nameOffset, id, problems);
  const body = offset + TYPE_HEADER_SIZE;
  const bodySize = bodyLength(kind, vlen);
  if (body + bodySize > end) {
    problems.push(readError(`.BTF type [${id}] (${kind} '${name}') is cut short: the object is truncated; rebuild it with clang -g`));
    return undefined;
  }
  const next = body + bodySize;
  const u32 = (at: number): number => r.u32(at)!;
  switch (kind) {
    case 'INT': {
      const word = u32(body);
      const encoding = (word >>> 24) & 0x0f;
      return {
        type: {
          id, kind, name, size: sizeOrType, bitOffset: (word >>> 16) & 0xff, bits: word & 0xff,
          isSigned: (encoding & 1) !== 0, isChar: (encoding & 2) !== 0, isBool: (encoding & 4) !== 0,
        },
        next,
      };
    }
    case 'PTR':
      return { type: { id, kind, name, type: sizeOrType }, next };
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return { type: { id, kind, name, type: sizeOrType }, next };
    case 'ARRAY':
      return { type: { id, kind, name, type: u32(body), indexType: u32(body + 4), length: u32(body + 8) }, next };
    case 'STRUCT':
    case 'UNION': {
      const members = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + i * 12;
        const raw = u32(at + 8);
        members.push({
          name: nameAt(strings, u32(at), id, problems),
          type: u32(at + 4),
          bitOffset: kindFlag ? raw & 0xffffff : raw,
          bitfieldSize: kindFlag ? raw >>> 24 : 0,
        });
      }
      return { type: { id, kind, name, size: sizeOrType, members }, next };
    }
    case 'ENUM': {
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + i * 8;
        values.push({ name: nameAt(strings, u32(at), id, problems), value: kindFlag ? r.i32(at + 4)! : u32(at + 4) });
      }
      return { type: { id, kind, name, size: sizeOrType, isSigned: kindFlag, values }, next };
    }
    case 'ENUM64': {
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + i * 12;
        const bits = (BigInt(u32(at + 8)) << 32n) | BigInt(u32(at + 4));
        values.push({ name: nameAt(strings, u32(at), id, problems), value: kindFlag ? BigInt.asIntN(64, bits) : bits });
      }
      return { type: { id, kind, name, size: sizeOrType, isSigned: kindFlag, values }, next };
    }
    case 'FWD':
      return { type: { id, kind, name, fwdKind: kindFlag ? 'union' : 'struct' }, next };
    case 'FUNC':
      return { type: { id, kind, name, type: sizeOrType, linkage: LINKAGE[vlen] ?? 'static' }, next };
    case 'FUNC_PROTO': {
      const params = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + i * 8;
        params.push({ name: nameAt(strings, u32(at), id, problems), type: u32(at + 4) });
      }
      return { type: { id, kind, name, returnType: sizeOrType, params }, next };
    }
    case 'VAR':
      return { type: { id, kind, name, type: sizeOrType, linkage: LINKAGE[u32(body)] ?? 'static' }, next };
    case 'DATASEC': {
      const vars = [];
      for (let i = 0; i < vlen; i++) {
        const at = body + i * 12;
        vars.push({ type: u32(at), offset: u32(at + 4), size: u32(at + 8) });
      }
      return { type: { id, kind, name, size: sizeOrType, vars }, next };
    }
    case 'FLOAT':
      return { type: { id, kind, name, size: sizeOrType }, next };
    case 'DECL_TAG':
      return { type: { id, kind, name, type: sizeOrType, componentIndex: r.i32(body)! }, next };
  }
}

/** Bytes that follow the 12-byte common header for each kind. */
function bodyLength(kind: BtfType['kind'], vlen: number): number {
  switch (kind) {
    case 'INT':
    case 'VAR':
    case 'DECL_TAG':
      return 4;
    case 'ARRAY':
      return 12;
    case 'STRUCT':
    case 'UNION':
    case 'DATASEC':
    case 'ENUM64':
      return 12 * vlen;
    case 'ENUM':
    case 'FUNC_PROTO':
      return 8 * vlen;
    default:
      return 0;
  }
}

function nameAt(strings: BtfStrings, offset: number, id: number, problems: ReadProblem[]): string {
  const name = strings.at(offset);
  if (name !== undefined) return name;
  problems.push(readWarning(`.BTF type [${id}] names string offset ${offset}, outside the string section: the object is corrupted; rebuild it with clang -g`));
  return '';
}
