import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import type { PolicyProblem, Position } from './policy-model';

/** One key of a mapping, with the nodes errors are positioned on. */
export interface YamlEntry {
  readonly key: string;
  readonly keyNode: unknown;
  readonly value: unknown;
}

/** The entry for `key`, if the mapping has one. */
export function entryOf(entries: readonly YamlEntry[], key: string): YamlEntry | undefined {
  return entries.find((e) => e.key === key);
}

/** Collects positioned problems while walking a parsed YAML document. */
export class YamlChecker {
  readonly problems: PolicyProblem[] = [];
  readonly warnings: PolicyProblem[] = [];

  constructor(private readonly lines: LineCounter) {}

  /** Where `node` starts, else where `fallback` starts, else 1:1. */
  at(node: unknown, fallback?: unknown): Position {
    const offset = (node as Node | null | undefined)?.range?.[0] ?? (fallback as Node | undefined)?.range?.[0] ?? 0;
    return this.lines.linePos(offset);
  }

  error(node: unknown, fallback: unknown, message: string): void {
    this.problems.push({ ...this.at(node, fallback), message });
  }

  warn(node: unknown, fallback: unknown, message: string): void {
    this.warnings.push({ ...this.at(node, fallback), message });
  }

  /** A mapping's pairs with their key text; reports (and returns none for) anything that is not a mapping. */
  pairs(node: unknown, fallback: unknown, what: string): YamlEntry[] {
    if (!isMap(node)) {
      this.error(node, fallback, `${what} must be a mapping`);
      return [];
    }
    return (node as YAMLMap).items.map((pair) => ({ key: isScalar(pair.key) ? String(pair.key.value) : '', keyNode: pair.key, value: pair.value }));
  }

  /** A sequence's items; reports (and returns none for) anything that is not a sequence. */
  items(node: unknown, fallback: unknown, what: string): unknown[] {
    if (!isSeq(node)) {
      this.error(node, fallback, `${what} must be a list`);
      return [];
    }
    return (node as YAMLSeq).items;
  }

  /** A non-empty string scalar, or undefined after reporting what was expected. */
  string(node: unknown, fallback: unknown, what: string): string | undefined {
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === 'string' && value !== '') return value;
    this.error(node, fallback, `${what} must be a non-empty string`);
    return undefined;
  }

  /** Warns about keys outside `known`. */
  unknownKeys(entries: readonly YamlEntry[], known: readonly string[], where: string, fallback: unknown): void {
    for (const e of entries) {
      if (!known.includes(e.key)) this.warn(e.keyNode, fallback, `${where}: unknown key "${e.key}" (known: ${known.join(', ')}); ignored`);
    }
  }
}

/** The scalar's value (string, number, boolean, null), or undefined for a mapping or list. */
export function scalar(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}
