import { ByteReader } from '../elf/byte-reader';
import { readError, readWarning } from '../elf/problems';
import type { ReadProblem } from '../elf/problems';
import type { Btf } from './btf';
import { btfByteOrder } from './parse-btf';
import type { BtfStrings } from './parse-btf';

const INSN_SIZE = 8;
const EXT_HEADER_MIN = 24;
const FUNC_INFO_MIN_RECORD = 8;
const LINE_INFO_MIN_RECORD = 16;

/** One .BTF.ext func_info record: the BTF FUNC describing the function starting at insnOff. */
export interface FuncInfoRecord {
  /** ELF section the function lives in. */
  section: string;
  /** Instruction index inside the section (the ELF record stores bytes; this is bytes / 8). */
  insnOff: number;
  typeId: number;
  name: string;
}

/** One .BTF.ext line_info record: the source position of the instruction at insnOff. */
export interface LineInfoRecord {
  section: string;
  insnOff: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text as clang recorded it. */
  sourceText: string;
}

export interface ParsedBtfExt {
  funcInfo: FuncInfoRecord[];
  lineInfo: LineInfoRecord[];
  problems: ReadProblem[];
}

/** Parses a .BTF.ext section; its names live in the string table of the object's .BTF. Never throws. */
export function parseBtfExt(bytes: Uint8Array, strings: BtfStrings, btf: Btf | undefined): ParsedBtfExt {
  const result: ParsedBtfExt = { funcInfo: [], lineInfo: [], problems: [] };
  const littleEndian = btfByteOrder(bytes);
  if (littleEndian === undefined) {
    result.problems.push(readError('.BTF.ext section has no BTF magic (0xeB9F): the object is corrupted; rebuild it with clang -g'));
    return result;
  }
  const r = new ByteReader(bytes, littleEndian);
  const headerLength = r.u32(4);
  if (headerLength === undefined || headerLength < EXT_HEADER_MIN || !r.has(0, headerLength)) {
    result.problems.push(readError('.BTF.ext header is truncated: the object is corrupted; rebuild it with clang -g'));
    return result;
  }
  const funcStart = headerLength + r.u32(8)!;
  const funcLength = r.u32(12)!;
  const lineStart = headerLength + r.u32(16)!;
  const lineLength = r.u32(20)!;

  const name = (offset: number): string => strings.at(offset) ?? '';
  const funcInfo = { what: 'func_info', start: funcStart, length: funcLength, minRecord: FUNC_INFO_MIN_RECORD };
  readBlocks(r, funcInfo, name, result.problems, (section, at) => {
    const typeId = r.u32(at + 4)!;
    result.funcInfo.push({ section, insnOff: Math.floor(r.u32(at)! / INSN_SIZE), typeId, name: btf?.typeById(typeId)?.name ?? '' });
  });
  const lineInfo = { what: 'line_info', start: lineStart, length: lineLength, minRecord: LINE_INFO_MIN_RECORD };
  readBlocks(r, lineInfo, name, result.problems, (section, at) => {
    const lineCol = r.u32(at + 12)!;
    result.lineInfo.push({
      section,
      insnOff: Math.floor(r.u32(at)! / INSN_SIZE),
      file: name(r.u32(at + 4)!),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
      sourceText: name(r.u32(at + 8)!),
    });
  });
  return result;
}

/**
 * Walks one info subsection: a u32 record size, then per ELF section a header
 * (section name offset, record count) followed by that many records.
 */
function readBlocks(
  r: ByteReader,
  { what, start, length, minRecord }: { what: string; start: number; length: number; minRecord: number },
  name: (offset: number) => string,
  problems: ReadProblem[],
  onRecord: (section: string, at: number) => void,
): void {
  if (length === 0) return;
  if (!r.has(start, length) || length < 4) {
    problems.push(readError(`.BTF.ext ${what} runs past the end of the section: the object is truncated; rebuild it with clang -g`));
    return;
  }
  const end = start + length;
  const recordSize = r.u32(start)!;
  if (recordSize < minRecord) {
    problems.push(readError(`.BTF.ext ${what} record size ${recordSize} is below the minimum ${minRecord}: the object is corrupted; rebuild it with clang -g`));
    return;
  }
  let at = start + 4;
  while (at < end) {
    if (at + 8 > end) {
      problems.push(readWarning(`.BTF.ext ${what} ends with a partial block header: trailing bytes ignored`));
      return;
    }
    const section = name(r.u32(at)!);
    const count = r.u32(at + 4)!;
    at += 8;
    if (at + count * recordSize > end) {
      problems.push(readError(`.BTF.ext ${what} for section '${section}' claims ${count} records, more than the section holds: the object is corrupted; rebuild it with clang -g`));
      return;
    }
    for (let i = 0; i < count; i++, at += recordSize) onRecord(section, at);
  }
}
