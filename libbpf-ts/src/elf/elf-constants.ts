/** ELF numbers the BPF reader needs (from elf.h). */

export const EM_NONE = 0;
export const EM_BPF = 247;
export const ET_REL = 1;
export const SHT_NOBITS = 8;
export const SHF_EXECINSTR = 0x4;
/** In e_shstrndx: the real index is in section 0's sh_link. */
export const SHN_XINDEX = 0xffff;

const SECTION_TYPE_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 5: 'HASH', 6: 'DYNAMIC', 7: 'NOTE',
  8: 'NOBITS', 9: 'REL', 10: 'SHLIB', 11: 'DYNSYM', 14: 'INIT_ARRAY', 15: 'FINI_ARRAY', 16: 'PREINIT_ARRAY',
  17: 'GROUP', 18: 'SYMTAB_SHNDX', 0x6fff4c00: 'LLVM_ODRTAB', 0x6fff4c01: 'LLVM_LINKER_OPTIONS',
  0x6fff4c02: 'LLVM_CALL_GRAPH_PROFILE', 0x6fff4c03: 'LLVM_ADDRSIG', 0x6fff4c04: 'LLVM_DEPENDENT_LIBRARIES',
  0x6fff4c05: 'LLVM_SYMPART', 0x6fff4c09: 'LLVM_BB_ADDR_MAP',
};

const SYMBOL_TYPE_NAMES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
const SYMBOL_BIND_NAMES = ['LOCAL', 'GLOBAL', 'WEAK'];
const MACHINE_NAMES: Record<number, string> = { 0: 'none', 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 247: 'BPF' };

/** readelf's name for a section type ('PROGBITS', 'REL', 'LLVM_ADDRSIG'), or its hex value. */
export function sectionTypeName(type: number): string {
  return SECTION_TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

export function symbolTypeName(type: number): string {
  return SYMBOL_TYPE_NAMES[type] ?? `${type}`;
}

export function symbolBindName(bind: number): string {
  return SYMBOL_BIND_NAMES[bind] ?? `${bind}`;
}

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `machine ${machine}`;
}
