import type { LineInfoRecord } from '../btf/btf-ext';
import { LIBBPF_VERSION, matchSection } from '../section-defs';
import { SHF_EXECINSTR } from './elf-constants';
import type { ElfFile, ElfSection, ElfSymbol } from './elf-file';
import type { ProgramSpec, SubprogramSpec } from './object-spec';
import { readError, readWarning } from './problems';
import type { ReadProblem } from './problems';

const INSN_SIZE = 8;

/**
 * Finds programs the way libbpf does: every function symbol in an executable section is a
 * program, except in .text, where functions are subprograms that programs call.
 */
export function findPrograms(
  elf: ElfFile,
  lineInfo: readonly LineInfoRecord[],
  problems: ReadProblem[],
): { programs: ProgramSpec[]; subprograms: SubprogramSpec[] } {
  const programs: ProgramSpec[] = [];
  const subprograms: SubprogramSpec[] = [];
  for (const section of elf.sections) {
    if (section.type !== 'PROGBITS' || (section.flags & SHF_EXECINSTR) === 0 || section.size === 0) continue;
    const functions = elf.symbols
      .filter((s) => s.sectionIndex === section.index && s.type === 'FUNC')
      .sort((a, b) => a.value - b.value);
    if (functions.length === 0) {
      problems.push(readWarning(`section '${section.name}' holds ${Math.floor(section.size / INSN_SIZE)} instructions but no function symbol, so libbpf finds no program in it: define the code as a C function`));
    }
    for (const symbol of functions) {
      if (!fitsSection(symbol, section, problems)) continue;
      const placement = { sectionIndex: section.index, insnOffset: symbol.value / INSN_SIZE, insnCount: symbol.size / INSN_SIZE };
      if (section.name === '.text') {
        subprograms.push({ name: symbol.name, ...placement, isGlobal: symbol.bind !== 'LOCAL' });
      } else if (symbol.bind === 'LOCAL') {
        problems.push(readError(`program '${symbol.name}' in SEC("${section.name}") is static, and libbpf rejects static programs: remove \`static\` from its definition`));
      } else {
        programs.push(describeProgram(symbol.name, section, placement, lineInfo, problems));
      }
    }
  }
  return { programs, subprograms };
}

function fitsSection(symbol: ElfSymbol, section: ElfSection, problems: ReadProblem[]): boolean {
  const aligned = symbol.value % INSN_SIZE === 0 && symbol.size % INSN_SIZE === 0;
  if (aligned && symbol.size > 0 && symbol.value + symbol.size <= section.size) return true;
  problems.push(readError(`function '${symbol.name}' in section '${section.name}' has a corrupted extent (offset ${symbol.value}, size ${symbol.size}, section size ${section.size}): rebuild the object with clang -target bpf`));
  return false;
}

function describeProgram(
  name: string,
  section: ElfSection,
  placement: { sectionIndex: number; insnOffset: number; insnCount: number },
  lineInfo: readonly LineInfoRecord[],
  problems: ReadProblem[],
): ProgramSpec {
  const match = matchSection(section.name);
  const first = firstLine(lineInfo, section.name, placement.insnOffset, placement.insnOffset + placement.insnCount);
  if (match === undefined) {
    problems.push(readError(`program '${name}': SEC("${section.name}") is not a section name libbpf knows, so it cannot tell the program type: use a known name such as SEC("xdp"), SEC("tc"), SEC("cgroup/connect4") or SEC("kprobe/<function>")`));
  } else if (!match.known) {
    problems.push(readWarning(`program '${name}': SEC("${section.name}") needs libbpf ${match.knownSince}, but libbpf ${LIBBPF_VERSION} does not know it: set the program type (${match.progType}${match.expectedAttachType ? `, attach type ${match.expectedAttachType}` : ''}) explicitly when loading${tcxHint(section.name)}`));
  }
  return {
    name,
    section: section.name,
    ...placement,
    progType: match?.progType ?? 'unspec',
    ...(match?.expectedAttachType ? { expectedAttachType: match.expectedAttachType } : {}),
    sectionKnown: match?.known ?? false,
    ...(match?.knownSince ? { knownSince: match.knownSince } : {}),
    attachable: match?.attachable ?? 'manual',
    ...(first ? { line: first.line, file: first.file } : {}),
  };
}

function tcxHint(section: string): string {
  return /^tcx?\/(ingress|egress)$/.test(section) ? ', or write SEC("tc") and attach it with a tcx link' : '';
}

/**
 * The line info record with the lowest instruction offset inside [start, end) of the section, skipping
 * line 0 (compiler-made code). clang records the signature line there when it marks the function start,
 * otherwise the first statement's line.
 */
function firstLine(lineInfo: readonly LineInfoRecord[], section: string, start: number, end: number): LineInfoRecord | undefined {
  let best: LineInfoRecord | undefined;
  for (const record of lineInfo) {
    if (record.section !== section || record.line === 0 || record.insnOff < start || record.insnOff >= end) continue;
    if (best === undefined || record.insnOff < best.insnOff) best = record;
  }
  return best;
}
