import type { Btf } from '../btf/btf';
import { MAX_TYPE_DEPTH, isReference } from '../btf/btf-types';
import { formatValue } from '../btf/format-value';
import type { ElfFile } from './elf-file';
import type { GlobalVarSpec } from './object-spec';

/** The data sections libbpf turns into internal maps (and so into settable globals). */
const GLOBAL_SECTION = /^(\.(data|rodata|bss)(\..+)?|\.kconfig)$/;

/** Global variables from the DATASECs of data sections, with their initial values. */
export function findGlobals(btf: Btf, elf: ElfFile): GlobalVarSpec[] {
  const globals: GlobalVarSpec[] = [];
  for (const datasec of btf.types) {
    if (datasec.kind !== 'DATASEC' || !GLOBAL_SECTION.test(datasec.name)) continue;
    const section = elf.sections.find((s) => s.name === datasec.name);
    const contents = section ? elf.sectionBytes(section) : undefined;
    for (const placed of datasec.vars) {
      const variable = btf.typeById(placed.type);
      if (variable?.kind !== 'VAR') continue;
      const initial = contents?.subarray(placed.offset, placed.offset + placed.size);
      globals.push({
        name: variable.name,
        section: datasec.name,
        offset: placed.offset,
        size: placed.size,
        typeName: btf.typeName(variable.type),
        typeId: variable.type,
        isConst: isConst(btf, variable.type),
        initialValue: initial && initial.length === placed.size ? formatValue(btf, variable.type, initial) : null,
      });
    }
  }
  return globals;
}

/** Whether the type is const-qualified at the top, looking through typedefs and other qualifiers. */
function isConst(btf: Btf, id: number): boolean {
  let type = btf.typeById(id);
  for (let depth = 0; type !== undefined && isReference(type) && depth < MAX_TYPE_DEPTH; depth++) {
    if (type.kind === 'CONST') return true;
    type = btf.typeById(type.type);
  }
  return false;
}
