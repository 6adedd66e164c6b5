import { MAX_TYPE_DEPTH, isReference } from './btf-types';
import type { BtfKind, BtfType } from './btf-types';
import { cTypeName } from './type-name';

/** Parsed BTF: the type list (index = type id, 0 = void) and lookups over it. */
export class Btf {
  readonly types: readonly BtfType[];
  readonly littleEndian: boolean;
  private byName: Map<string, BtfType[]> | undefined;

  constructor(types: readonly BtfType[], littleEndian: boolean) {
    this.types = types;
    this.littleEndian = littleEndian;
  }

  typeById(id: number): BtfType | undefined {
    return Number.isInteger(id) && id >= 0 ? this.types[id] : undefined;
  }

  /** The first type with this name (and kind, when given), in id order. */
  findByName(name: string, kind?: BtfKind): BtfType | undefined {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const type of this.types) {
        if (type.name === '') continue;
        const list = this.byName.get(type.name);
        if (list) list.push(type);
        else this.byName.set(type.name, [type]);
      }
    }
    const candidates = this.byName.get(name) ?? [];
    return kind === undefined ? candidates[0] : candidates.find((t) => t.kind === kind);
  }

  /** Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the underlying type. */
  resolve(id: number): BtfType | undefined {
    return this.follow(id, () => true);
  }

  /** Follows qualifiers only, keeping typedef names. */
  skipQualifiers(id: number): BtfType | undefined {
    return this.follow(id, (type) => type.kind !== 'TYPEDEF');
  }

  /** Size in bytes of a value of this type, or undefined for void, functions, forward declarations and broken ids. */
  sizeOf(id: number): number | undefined {
    return this.sizeAt(id, 0);
  }

  /** C-like spelling of a type: 'struct flow_key', '__u32', 'unsigned int *', 'char[16]', 'const volatile int'. */
  typeName(id: number): string {
    return cTypeName(this, id);
  }

  /** Walks typedef/qualifier links while `through` allows it; undefined on a broken id or a loop. */
  private follow(id: number, through: (type: BtfType) => boolean): BtfType | undefined {
    let type = this.typeById(id);
    for (let depth = 0; type !== undefined && depth < MAX_TYPE_DEPTH; depth++) {
      if (!isReference(type) || !through(type)) return type;
      type = this.typeById(type.type);
    }
    return undefined;
  }

  private sizeAt(id: number, depth: number): number | undefined {
    const type = this.typeById(id);
    if (type === undefined || depth > MAX_TYPE_DEPTH) return undefined;
    switch (type.kind) {
      case 'INT':
      case 'STRUCT':
      case 'UNION':
      case 'ENUM':
      case 'ENUM64':
      case 'FLOAT':
      case 'DATASEC':
        return type.size;
      case 'PTR':
        return 8;
      case 'ARRAY': {
        const element = this.sizeAt(type.type, depth + 1);
        return element === undefined ? undefined : element * type.length;
      }
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
      case 'VAR':
        return this.sizeAt(type.type, depth + 1);
      default:
        return undefined;
    }
  }
}
