import type { Btf } from './btf';
import { MAX_TYPE_DEPTH } from './btf-types';

/**
 * Spells a BTF type the way C declares it, by building the declarator inside out:
 * a pointer to an array becomes 'int (*)[4]', a const pointer 'int *const'.
 * Type tags are metadata and are left out.
 */
export function cTypeName(btf: Btf, id: number): string {
  return declaration(btf, id, '', 0);
}

function declaration(btf: Btf, id: number, declarator: string, depth: number): string {
  const type = btf.typeById(id);
  if (type === undefined || depth > MAX_TYPE_DEPTH) return join(`<bad type ${id}>`, declarator);
  switch (type.kind) {
    case 'VOID':
      return join('void', declarator);
    case 'INT':
    case 'FLOAT':
    case 'TYPEDEF':
      return join(type.name || '(anon)', declarator);
    case 'STRUCT':
    case 'UNION':
      return join(`${type.kind.toLowerCase()} ${type.name || '(anon)'}`, declarator);
    case 'ENUM':
    case 'ENUM64':
      return join(`enum ${type.name || '(anon)'}`, declarator);
    case 'FWD':
      return join(`${type.fwdKind} ${type.name}`, declarator);
    case 'PTR': {
      const target = btf.skipQualifiers(type.type);
      const wrap = target?.kind === 'ARRAY' || target?.kind === 'FUNC_PROTO';
      return declaration(btf, type.type, wrap ? `(*${declarator})` : `*${declarator}`, depth + 1);
    }
    case 'ARRAY':
      return declaration(btf, type.type, `${declarator}[${type.length}]`, depth + 1);
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT': {
      const qualifier = type.kind.toLowerCase();
      if (btf.typeById(type.type)?.kind === 'PTR') {
        return declaration(btf, type.type, declarator ? `${qualifier} ${declarator}` : qualifier, depth + 1);
      }
      return `${qualifier} ${declaration(btf, type.type, declarator, depth + 1)}`;
    }
    case 'TYPE_TAG':
    case 'VAR':
      return declaration(btf, type.type, declarator, depth + 1);
    case 'FUNC_PROTO': {
      const params = type.params.map((p) => (p.type === 0 && p.name === '' ? '...' : declaration(btf, p.type, '', depth + 1)));
      return declaration(btf, type.returnType, `${declarator}(${params.length ? params.join(', ') : 'void'})`, depth + 1);
    }
    case 'FUNC':
      return declaration(btf, type.type, type.name, depth + 1);
    case 'DATASEC':
      return join(`section ${type.name}`, declarator);
    case 'DECL_TAG':
      return join(`tag ${type.name}`, declarator);
  }
}

/** 'int' + '*' = 'int *', 'char' + '[16]' = 'char[16]', 'int' + '' = 'int'. */
function join(base: string, declarator: string): string {
  if (declarator === '') return base;
  return declarator.startsWith('[') ? base + declarator : `${base} ${declarator}`;
}
