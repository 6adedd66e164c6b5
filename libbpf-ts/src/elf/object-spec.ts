import type { Btf } from '../btf/btf';
import type { FuncInfoRecord, LineInfoRecord } from '../btf/btf-ext';
import type { ElfSection, ElfSymbol } from './elf-file';

/** An entry-point program: a global function in an executable section other than .text. */
export interface ProgramSpec {
  name: string;
  /** The SEC() name, i.e. the ELF section name. */
  section: string;
  sectionIndex: number;
  /** First instruction, counted in 8-byte instructions from the start of the section. */
  insnOffset: number;
  insnCount: number;
  /** libbpf's program type name ('xdp', 'sched_cls', ...); 'unspec' when no libbpf knows the section. */
  progType: string;
  /** libbpf's attach type name, e.g. 'cgroup_inet4_connect'. */
  expectedAttachType?: string;
  /** Whether libbpf 1.1 recognises the SEC name. */
  sectionKnown: boolean;
  /** The libbpf version that introduced the SEC name, when 1.1 does not know it. */
  knownSince?: string;
  /** Whether libbpf can attach it from the SEC name alone. */
  attachable: 'auto' | 'manual';
  /**
   * The function's first source line from .BTF.ext line info: its signature line when clang
   * records the function start, else the line of its first statement.
   */
  line?: number;
  /** Source file of that line. */
  file?: string;
}

/** A function in .text, called from programs (static or global subprogram). */
export interface SubprogramSpec {
  name: string;
  sectionIndex: number;
  insnOffset: number;
  insnCount: number;
  isGlobal: boolean;
}

export interface MapSpec {
  name: string;
  /** libbpf's map type name: 'hash', 'array', 'percpu_array', 'ringbuf', 'sockhash', 'lpm_trie', ... */
  type: string;
  /** BPF_MAP_TYPE_* number. */
  typeId: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: 'none' | 'by_name';
  keyType?: string;
  valueType?: string;
  /** BTF ids of the key and value types, for decoding entries with formatValue. */
  keyTypeId?: number;
  valueTypeId?: number;
  /** Extra fields some map types take (numa_node, map_extra), when set. */
  numaNode?: number;
  mapExtra?: number;
}

/** A global variable placed in a data section: .rodata holds the `const volatile` settings to set before load. */
export interface GlobalVarSpec {
  name: string;
  /** '.rodata', '.data', '.bss', or another data section such as '.data.custom' or '.kconfig'. */
  section: string;
  offset: number;
  size: number;
  typeName: string;
  typeId: number;
  isConst: boolean;
  /** The initial value decoded with formatValue (zero for .bss). */
  initialValue: unknown;
}

export interface BpfObjectSpec {
  littleEndian: boolean;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  programs: ProgramSpec[];
  subprograms: SubprogramSpec[];
  maps: MapSpec[];
  globals: GlobalVarSpec[];
  license?: string;
  hasBtf: boolean;
  hasBtfExt: boolean;
  hasLineInfo: boolean;
  /** Parsed .BTF, with DATASEC sizes and offsets filled in from the ELF as libbpf does before load. */
  btf?: Btf;
  funcInfo: FuncInfoRecord[];
  lineInfo: LineInfoRecord[];
}

export function emptySpec(): BpfObjectSpec {
  return {
    littleEndian: true,
    sections: [],
    symbols: [],
    programs: [],
    subprograms: [],
    maps: [],
    globals: [],
    hasBtf: false,
    hasBtfExt: false,
    hasLineInfo: false,
    funcInfo: [],
    lineInfo: [],
  };
}
