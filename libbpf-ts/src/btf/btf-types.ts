/** BTF type records as the kernel's uapi/linux/btf.h lays them out, with names resolved. */

export type BtfKind =
  | 'VOID'
  | 'INT'
  | 'PTR'
  | 'ARRAY'
  | 'STRUCT'
  | 'UNION'
  | 'ENUM'
  | 'FWD'
  | 'TYPEDEF'
  | 'VOLATILE'
  | 'CONST'
  | 'RESTRICT'
  | 'FUNC'
  | 'FUNC_PROTO'
  | 'VAR'
  | 'DATASEC'
  | 'FLOAT'
  | 'DECL_TAG'
  | 'TYPE_TAG'
  | 'ENUM64';

/** Kind numbers in the `info` word (bits 24-28), index = BTF_KIND_* value. */
export const BTF_KIND_BY_NUMBER: readonly BtfKind[] = [
  'VOID', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];

/** Guards walks over type chains: well-formed BTF never nests this deep, a malicious one may loop. */
export const MAX_TYPE_DEPTH = 64;

export type BtfLinkage = 'static' | 'global' | 'extern';

interface BtfTypeBase {
  /** Type id: index in the type section, 1-based; 0 is void. */
  id: number;
  /** '' for anonymous types. */
  name: string;
}

export interface BtfVoid extends BtfTypeBase { kind: 'VOID' }

export interface BtfInt extends BtfTypeBase {
  kind: 'INT';
  size: number;
  /** Bit offset and width inside the `size` bytes (legacy bitfield encoding; normally 0 and size*8). */
  bitOffset: number;
  bits: number;
  isSigned: boolean;
  isChar: boolean;
  isBool: boolean;
}

export interface BtfPtr extends BtfTypeBase { kind: 'PTR'; type: number }

/** A type that only names or qualifies another one. */
export interface BtfReference extends BtfTypeBase {
  kind: 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  type: number;
}

export interface BtfArray extends BtfTypeBase {
  kind: 'ARRAY';
  type: number;
  indexType: number;
  length: number;
}

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Width of a bitfield member, 0 when the member is not a bitfield. */
  bitfieldSize: number;
}

export interface BtfComposite extends BtfTypeBase {
  kind: 'STRUCT' | 'UNION';
  size: number;
  members: BtfMember[];
}

export interface BtfEnum extends BtfTypeBase {
  kind: 'ENUM';
  size: number;
  isSigned: boolean;
  values: { name: string; value: number }[];
}

export interface BtfEnum64 extends BtfTypeBase {
  kind: 'ENUM64';
  size: number;
  isSigned: boolean;
  values: { name: string; value: bigint }[];
}

export interface BtfFwd extends BtfTypeBase { kind: 'FWD'; fwdKind: 'struct' | 'union' }

export interface BtfFunc extends BtfTypeBase { kind: 'FUNC'; type: number; linkage: BtfLinkage }

export interface BtfFuncProto extends BtfTypeBase {
  kind: 'FUNC_PROTO';
  returnType: number;
  /** A trailing parameter with type 0 and no name marks a variadic function. */
  params: { name: string; type: number }[];
}

export interface BtfVar extends BtfTypeBase { kind: 'VAR'; type: number; linkage: BtfLinkage }

export interface BtfDatasecVar {
  /** Id of the VAR (or FUNC, for externs) placed in the section. */
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends BtfTypeBase { kind: 'DATASEC'; size: number; vars: BtfDatasecVar[] }

export interface BtfFloat extends BtfTypeBase { kind: 'FLOAT'; size: number }

export interface BtfDeclTag extends BtfTypeBase {
  kind: 'DECL_TAG';
  type: number;
  /** -1 when the tag applies to the type itself, else the member or parameter index. */
  componentIndex: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfReference
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

const REFERENCE_KINDS: ReadonlySet<string> = new Set(['TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT', 'TYPE_TAG']);

/** Typedefs and qualifiers: types that stand for the type they point at. */
export function isReference(type: BtfType): type is BtfReference {
  return REFERENCE_KINDS.has(type.kind);
}
