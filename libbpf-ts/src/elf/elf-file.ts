import { ByteReader } from './byte-reader';
import {
  EM_BPF, EM_NONE, ET_REL, SHN_XINDEX, SHT_NOBITS, machineName, sectionTypeName, symbolBindName, symbolTypeName,
} from './elf-constants';
import { readError, readWarning } from './problems';
import type { ReadProblem } from './problems';

const ELF_HEADER_SIZE = 64;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
/** A .bss claiming more than 512 MiB is treated as corrupt rather than allocated. */
const MAX_NOBITS_SIZE = 1 << 29;
const CLANG_COMMAND = '`clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o`';

export interface ElfSection {
  index: number;
  name: string;
  /** readelf's name for sh_type: 'PROGBITS', 'NOBITS', 'SYMTAB', 'REL', ... */
  type: string;
  /** sh_flags bits: SHF_WRITE 1, SHF_ALLOC 2, SHF_EXECINSTR 4, ... */
  flags: number;
  /** File offset of the section's bytes. */
  offset: number;
  size: number;
  link: number;
  info: number;
}

export interface ElfSymbol {
  /** Index in .symtab (index 0, the null symbol, is not listed). */
  index: number;
  /** '' for section symbols and other unnamed ones. */
  name: string;
  value: number;
  size: number;
  /** 'NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', ... */
  type: string;
  /** 'LOCAL', 'GLOBAL' or 'WEAK'. */
  bind: string;
  /** st_shndx: the defining section, or SHN_UNDEF (0), SHN_ABS (0xfff1), SHN_COMMON (0xfff2). */
  sectionIndex: number;
}

/** A parsed 64-bit BPF relocatable ELF: headers and symbols, plus access to section bytes. */
export interface ElfFile {
  littleEndian: boolean;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** The section's bytes, a zero-filled buffer for NOBITS (.bss), undefined when they lie outside the file. */
  sectionBytes(section: ElfSection): Uint8Array | undefined;
}

interface ElfHeader {
  reader: ByteReader;
  sectionTableOffset: number;
  sectionCount: number;
  namesIndex: number;
}

/** Parses the ELF container of a BPF object. Never throws; returns no file when the headers are unusable. */
export function parseElf(bytes: Uint8Array): { elf?: ElfFile; problems: ReadProblem[] } {
  const header = readHeader(bytes);
  if (typeof header === 'string') return { problems: [readError(header)] };
  const problems: ReadProblem[] = [];
  const r = header.reader;
  const sections = readSections(header, problems);
  const sectionBytes = (section: ElfSection): Uint8Array | undefined => {
    if (section.type !== 'NOBITS') return r.slice(section.offset, section.size);
    return section.size <= MAX_NOBITS_SIZE ? new Uint8Array(section.size) : undefined;
  };
  const elf: ElfFile = { littleEndian: r.littleEndian, sections, symbols: [], sectionBytes };
  elf.symbols = readSymbols(elf, problems);
  return { elf, problems };
}

/** The file header, or the reason the file is not a usable BPF object. */
function readHeader(bytes: Uint8Array): ElfHeader | string {
  if (bytes.length === 0) return `the object is empty (0 bytes): build it with ${CLANG_COMMAND}`;
  if (!ELF_MAGIC.every((byte, i) => i >= bytes.length || bytes[i] === byte)) {
    return `not an ELF file (no \\x7fELF magic at its start): pass the object file written by ${CLANG_COMMAND}`;
  }
  if (bytes.length < ELF_HEADER_SIZE) return `truncated ELF: ${bytes.length} bytes, shorter than the 64-byte ELF header; rebuild it with ${CLANG_COMMAND}`;
  if (bytes[4] !== 2) return `${bytes[4] === 1 ? 'a 32-bit' : 'an unknown-class'} ELF file, but BPF objects are 64-bit ELF: build it with ${CLANG_COMMAND}`;
  if (bytes[5] !== 1 && bytes[5] !== 2) return `ELF file with unknown byte order ${bytes[5]}: the file is corrupted; rebuild it with ${CLANG_COMMAND}`;
  const reader = new ByteReader(bytes, bytes[5] === 1);
  const type = reader.u16(16)!;
  const machine = reader.u16(18)!;
  if (machine !== EM_BPF && machine !== EM_NONE) return `not a BPF object: the ELF machine is ${machineName(machine)}, not BPF; build it with ${CLANG_COMMAND}`;
  if (type !== ET_REL) return `not a relocatable object (ELF type ${type}; libbpf loads ET_REL objects): build it with ${CLANG_COMMAND} and do not link it`;

  const sectionTableOffset = reader.u64(0x28)!;
  const entrySize = reader.u16(0x3a)!;
  if (sectionTableOffset === 0) return `ELF file has no section header table: rebuild it with ${CLANG_COMMAND}`;
  if (entrySize !== SECTION_HEADER_SIZE) return `ELF section header size is ${entrySize}, expected 64: the file is corrupted; rebuild it`;
  // With many sections, the count and the name-table index move into section 0's sh_size and sh_link.
  const sectionCount = reader.u16(0x3c) || (reader.u64(sectionTableOffset + 0x20) ?? 0);
  const namesIndex = reader.u16(0x3e) === SHN_XINDEX ? reader.u32(sectionTableOffset + 0x28) ?? 0 : reader.u16(0x3e)!;
  if (!reader.has(sectionTableOffset, sectionCount * SECTION_HEADER_SIZE)) {
    return `truncated ELF: the section header table (${sectionCount} entries at offset ${sectionTableOffset}) runs past the end of the ${bytes.length}-byte file; rebuild the object`;
  }
  return { reader, sectionTableOffset, sectionCount, namesIndex };
}

function readSections({ reader: r, sectionTableOffset, sectionCount, namesIndex }: ElfHeader, problems: ReadProblem[]): ElfSection[] {
  const headers = Array.from({ length: sectionCount }, (_, index) => {
    const at = sectionTableOffset + index * SECTION_HEADER_SIZE;
    return {
      index,
      nameOffset: r.u32(at)!,
      shType: r.u32(at + 4)!,
      flags: r.u64(at + 8)!,
      offset: r.u64(at + 0x18)!,
      size: r.u64(at + 0x20)!,
      link: r.u32(at + 0x28)!,
      info: r.u32(at + 0x2c)!,
    };
  });
  const names = headers[namesIndex];
  const namesUsable = names !== undefined && r.has(names.offset, names.size);
  if (!namesUsable) {
    problems.push(readError(`ELF section-name table (section ${namesIndex}) is missing or outside the file: section names are unknown; rebuild the object`));
  }
  return headers.map(({ nameOffset, shType, ...header }) => {
    const name = (namesUsable ? r.cString(names.offset + nameOffset, names.offset + names.size) : undefined) ?? '';
    if (shType === SHT_NOBITS && header.size > MAX_NOBITS_SIZE) {
      problems.push(readError(`section '${name}' claims ${header.size} bytes of zero-initialised data, more than any BPF map holds: the object is corrupted; rebuild it`));
    } else if (shType !== SHT_NOBITS && header.index !== 0 && !r.has(header.offset, header.size)) {
      problems.push(readError(`section '${name}' (${header.size} bytes at offset ${header.offset}) runs past the end of the ${r.length}-byte file: the object is truncated; rebuild it`));
    }
    return { index: header.index, name, type: sectionTypeName(shType), flags: header.flags, offset: header.offset, size: header.size, link: header.link, info: header.info };
  });
}

function readSymbols(elf: ElfFile, problems: ReadProblem[]): ElfSymbol[] {
  const symtab = elf.sections.find((s) => s.type === 'SYMTAB');
  if (symtab === undefined) {
    problems.push(readError(`object has no symbol table (.symtab), so programs cannot be found: build it with ${CLANG_COMMAND} and do not strip it`));
    return [];
  }
  const table = elf.sectionBytes(symtab);
  if (table === undefined) return [];
  const strtab = elf.sections[symtab.link];
  const names = strtab ? elf.sectionBytes(strtab) : undefined;
  if (names === undefined) {
    problems.push(readError(`symbol string table (section ${symtab.link}) is missing or outside the file: symbol names are unknown; rebuild the object`));
  }
  if (table.length % SYMBOL_SIZE !== 0) {
    problems.push(readWarning(`symbol table size ${table.length} is not a multiple of ${SYMBOL_SIZE}: trailing bytes ignored`));
  }
  const t = new ByteReader(table, elf.littleEndian);
  const n = new ByteReader(names ?? new Uint8Array(0), elf.littleEndian);
  const count = Math.floor(table.length / SYMBOL_SIZE);
  return Array.from({ length: Math.max(0, count - 1) }, (_, i) => {
    const index = i + 1;
    const at = index * SYMBOL_SIZE;
    const info = t.u8(at + 4)!;
    return {
      index,
      name: n.cString(t.u32(at)!) ?? '',
      value: t.u64(at + 8)!,
      size: t.u64(at + 16)!,
      type: symbolTypeName(info & 0xf),
      bind: symbolBindName(info >> 4),
      sectionIndex: t.u16(at + 6)!,
    };
  });
}
