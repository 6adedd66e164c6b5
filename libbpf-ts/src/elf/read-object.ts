import type { Btf } from '../btf/btf';
import { parseBtfExt } from '../btf/btf-ext';
import type { FuncInfoRecord, LineInfoRecord } from '../btf/btf-ext';
import { parseBtf } from '../btf/parse-btf';
import { latin1OrUtf8 } from './byte-reader';
import { withDatasecLayout } from './datasec-layout';
import { parseElf } from './elf-file';
import type { ElfFile } from './elf-file';
import { findGlobals } from './globals';
import { findMaps } from './maps';
import { emptySpec } from './object-spec';
import type { BpfObjectSpec } from './object-spec';
import { readError, readWarning } from './problems';
import type { ReadProblem } from './problems';
import { findPrograms } from './programs';

/**
 * Reads a BPF ELF object (what `clang -target bpf -c` writes) into a spec: sections, symbols,
 * programs, maps, globals, BTF and line info. Pure and deterministic; never throws — anything
 * wrong or missing is reported in `problems`, each message naming the fix.
 */
export function readBpfObject(bytes: Uint8Array): { spec: BpfObjectSpec; problems: ReadProblem[] } {
  const problems: ReadProblem[] = [];
  const spec = emptySpec();
  try {
    const { elf, problems: elfProblems } = parseElf(bytes);
    problems.push(...elfProblems);
    if (elf !== undefined) fillSpec(spec, elf, problems);
  } catch (error) {
    problems.push(readError(`internal error while reading the object (${error instanceof Error ? error.message : String(error)}): please report it with the object file`));
  }
  return { spec, problems };
}

function fillSpec(spec: BpfObjectSpec, elf: ElfFile, problems: ReadProblem[]): void {
  spec.littleEndian = elf.littleEndian;
  spec.sections = elf.sections;
  spec.symbols = elf.symbols;
  spec.license = readLicense(elf, problems);

  const debug = readDebugInfo(elf, problems);
  spec.hasBtf = debug.btf !== undefined;
  spec.hasBtfExt = debug.hasBtfExt;
  spec.funcInfo = debug.funcInfo;
  spec.lineInfo = debug.lineInfo;
  spec.hasLineInfo = debug.lineInfo.length > 0;

  const { programs, subprograms } = findPrograms(elf, spec.lineInfo, problems);
  spec.programs = programs;
  spec.subprograms = subprograms;
  if (programs.length === 0) problems.push(readWarning('object defines no BPF program: put a global function in a SEC("...") section, e.g. SEC("xdp")'));
  spec.maps = findMaps(debug.btf, elf, problems);
  if (debug.btf) {
    spec.btf = debug.btf;
    spec.globals = findGlobals(debug.btf, elf);
  }
}

interface DebugInfo {
  btf?: Btf;
  hasBtfExt: boolean;
  funcInfo: FuncInfoRecord[];
  lineInfo: LineInfoRecord[];
}

/** .BTF (with DATASECs laid out as libbpf does) and the func/line info of .BTF.ext, which names things in .BTF's strings. */
function readDebugInfo(elf: ElfFile, problems: ReadProblem[]): DebugInfo {
  const none: DebugInfo = { hasBtfExt: false, funcInfo: [], lineInfo: [] };
  const btfSection = elf.sections.find((s) => s.name === '.BTF');
  if (btfSection === undefined) {
    const severity = elf.sections.some((s) => s.name === '.maps') ? readError : readWarning;
    problems.push(severity('object has no .BTF section, so it has no BTF and no line info: compile with -g (BTF-defined maps, globals and source lines need it)'));
    return none;
  }
  const btfBytes = elf.sectionBytes(btfSection);
  if (btfBytes === undefined) return none;
  const parsed = parseBtf(btfBytes);
  problems.push(...parsed.problems);
  const btf = parsed.btf ? withDatasecLayout(parsed.btf, elf) : undefined;

  const extSection = elf.sections.find((s) => s.name === '.BTF.ext');
  const extBytes = extSection ? elf.sectionBytes(extSection) : undefined;
  if (extSection === undefined) {
    problems.push(readWarning('object has no .BTF.ext section, so there is no line info to map verifier messages to source: compile with -g'));
  }
  if (extBytes === undefined || parsed.strings === undefined) return { ...none, btf };
  const ext = parseBtfExt(extBytes, parsed.strings, btf);
  problems.push(...ext.problems);
  return { btf, hasBtfExt: true, funcInfo: ext.funcInfo, lineInfo: ext.lineInfo };
}

function readLicense(elf: ElfFile, problems: ReadProblem[]): string | undefined {
  const section = elf.sections.find((s) => s.name === 'license');
  const bytes = section ? elf.sectionBytes(section) : undefined;
  if (bytes === undefined) {
    problems.push(readWarning('object has no license: add `char LICENSE[] SEC("license") = "GPL";` (GPL-only helpers such as bpf_trace_printk need a GPL-compatible license)'));
    return undefined;
  }
  const nul = bytes.indexOf(0);
  return latin1OrUtf8(nul === -1 ? bytes : bytes.subarray(0, nul));
}
