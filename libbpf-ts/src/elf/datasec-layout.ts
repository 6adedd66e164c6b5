import { Btf } from '../btf/btf';
import type { BtfDatasec, BtfType } from '../btf/btf-types';
import type { ElfFile } from './elf-file';

/**
 * clang leaves DATASEC sizes (and, for several variables in one section, their offsets) as 0;
 * libbpf fills them in from the ELF section sizes and symbol values before loading. This returns
 * a Btf with the same fix applied, so offsets and sizes match what the kernel will see.
 */
export function withDatasecLayout(btf: Btf, elf: ElfFile): Btf {
  let changed = false;
  const types = btf.types.map((type): BtfType => {
    if (type.kind !== 'DATASEC') return type;
    const fixed = layOut(type, btf, elf);
    if (fixed !== type) changed = true;
    return fixed;
  });
  return changed ? new Btf(types, btf.littleEndian) : btf;
}

function layOut(datasec: BtfDatasec, btf: Btf, elf: ElfFile): BtfDatasec {
  const section = elf.sections.find((s) => s.name === datasec.name);
  if (section === undefined) return datasec;
  const vars = datasec.vars.map((v) => {
    const name = btf.typeById(v.type)?.name;
    const symbol = elf.symbols.find((s) => s.sectionIndex === section.index && s.type === 'OBJECT' && s.name === name);
    return symbol === undefined || symbol.value === v.offset ? v : { ...v, offset: symbol.value };
  });
  const size = datasec.size === 0 ? section.size : datasec.size;
  const same = size === datasec.size && vars.every((v, i) => v === datasec.vars[i]);
  return same ? datasec : { ...datasec, size, vars };
}
