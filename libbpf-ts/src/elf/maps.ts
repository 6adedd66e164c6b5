import type { Btf } from '../btf/btf';
import type { BtfMember } from '../btf/btf-types';
import type { ElfFile } from './elf-file';
import { mapTypeName } from './map-types';
import type { MapSpec } from './object-spec';
import { readError } from './problems';
import type { ReadProblem } from './problems';

const PIN_NONE = 0;
const PIN_BY_NAME = 1;
const MAP_DEFINITION_FIX = 'declare maps as `struct { __uint(type, ...); __type(key, ...); ... } name SEC(".maps");`';

/** Numeric fields written as __uint(field, N), i.e. `int (*field)[N]`. */
const NUMBER_FIELDS = ['type', 'max_entries', 'map_flags', 'key_size', 'value_size', 'pinning', 'numa_node', 'map_extra'] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];
/** Type fields written as __type(field, T), i.e. `T *field`. */
const TYPE_FIELDS = ['key', 'value'] as const;
type TypeField = (typeof TYPE_FIELDS)[number];
/** __array(values, ...) initialises map-in-map and program-array slots; it carries no definition data. */
const IGNORED_FIELDS = ['values'];

interface MapFields {
  numbers: Partial<Record<NumberField, number>>;
  types: Partial<Record<TypeField, number>>;
}

/** BTF-defined maps from the .maps DATASEC, resolved the way libbpf reads __uint/__type members. Without BTF there are none. */
export function findMaps(btf: Btf | undefined, elf: ElfFile, problems: ReadProblem[]): MapSpec[] {
  if (elf.sections.some((s) => s.name === 'maps')) {
    problems.push(readError(`legacy map definitions in SEC("maps") are not supported by libbpf 1.x: ${MAP_DEFINITION_FIX}`));
  }
  if (btf === undefined) return [];
  const datasec = btf.findByName('.maps', 'DATASEC');
  if (datasec?.kind !== 'DATASEC') {
    if (elf.sections.some((s) => s.name === '.maps')) {
      problems.push(readError('object has a .maps section that its BTF does not describe, so its maps cannot be read: rebuild it with clang -g'));
    }
    return [];
  }
  const maps: MapSpec[] = [];
  for (const placed of datasec.vars) {
    const variable = btf.typeById(placed.type);
    if (variable?.kind !== 'VAR') continue;
    const map = readMap(btf, variable.name, variable.type, problems);
    if (map) maps.push(map);
  }
  return maps;
}

function readMap(btf: Btf, name: string, definitionId: number, problems: ReadProblem[]): MapSpec | undefined {
  const definition = btf.resolve(definitionId);
  if (definition?.kind !== 'STRUCT') {
    problems.push(readError(`map '${name}' in SEC(".maps") is not a struct: ${MAP_DEFINITION_FIX}`));
    return undefined;
  }
  const { numbers, types } = readFields(btf, name, definition.members, problems);
  const keySize = entrySize(btf, name, 'key', numbers.key_size, types.key, problems);
  const valueSize = entrySize(btf, name, 'value', numbers.value_size, types.value, problems);
  const typeId = numbers.type ?? 0;
  if (typeId === 0) problems.push(readError(`map '${name}' has no type: add __uint(type, BPF_MAP_TYPE_...) to its definition`));
  const pinning = numbers.pinning ?? PIN_NONE;
  if (pinning !== PIN_NONE && pinning !== PIN_BY_NAME) {
    problems.push(readError(`map '${name}' has pinning ${pinning}; libbpf knows only LIBBPF_PIN_NONE (0) and LIBBPF_PIN_BY_NAME (1)`));
  }
  return {
    name,
    type: mapTypeName(typeId),
    typeId,
    keySize,
    valueSize,
    maxEntries: numbers.max_entries ?? 0,
    flags: numbers.map_flags ?? 0,
    pinning: pinning === PIN_BY_NAME ? 'by_name' : 'none',
    ...(types.key !== undefined ? { keyType: btf.typeName(types.key), keyTypeId: types.key } : {}),
    ...(types.value !== undefined ? { valueType: btf.typeName(types.value), valueTypeId: types.value } : {}),
    ...(numbers.numa_node !== undefined ? { numaNode: numbers.numa_node } : {}),
    ...(numbers.map_extra !== undefined ? { mapExtra: numbers.map_extra } : {}),
  };
}

function readFields(btf: Btf, map: string, members: readonly BtfMember[], problems: ReadProblem[]): MapFields {
  const fields: MapFields = { numbers: {}, types: {} };
  for (const member of members) {
    const pointer = btf.resolve(member.type);
    const target = pointer?.kind === 'PTR' ? pointer.type : undefined;
    if ((NUMBER_FIELDS as readonly string[]).includes(member.name)) {
      const array = target === undefined ? undefined : btf.typeById(target);
      if (array?.kind === 'ARRAY') fields.numbers[member.name as NumberField] = array.length;
      else problems.push(readError(`map '${map}' field '${member.name}' must be declared as __uint(${member.name}, N)`));
    } else if ((TYPE_FIELDS as readonly string[]).includes(member.name)) {
      if (target !== undefined) fields.types[member.name as TypeField] = target;
      else problems.push(readError(`map '${map}' field '${member.name}' must be declared as __type(${member.name}, T)`));
    } else if (!IGNORED_FIELDS.includes(member.name)) {
      problems.push(readError(`map '${map}' has unknown field '${member.name}', which libbpf rejects: remove it or use one of ${[...NUMBER_FIELDS, ...TYPE_FIELDS, ...IGNORED_FIELDS].join(', ')}`));
    }
  }
  return fields;
}

/** key_size/value_size from __uint(..._size, N) or from the size of the __type(...) type; they must agree. */
function entrySize(btf: Btf, map: string, what: 'key' | 'value', declared: number | undefined, typeId: number | undefined, problems: ReadProblem[]): number {
  if (typeId === undefined) return declared ?? 0;
  const size = btf.sizeOf(typeId);
  if (size === undefined) {
    problems.push(readError(`map '${map}' ${what} type ${btf.typeName(typeId)} has no known size: use a complete type in __type(${what}, ...)`));
    return declared ?? 0;
  }
  if (declared !== undefined && declared !== size) {
    problems.push(readError(`map '${map}' declares ${what}_size ${declared} but its ${what} type ${btf.typeName(typeId)} is ${size} bytes: keep only one of __uint(${what}_size, ...) and __type(${what}, ...)`));
  }
  return size;
}
