import { isMap } from 'yaml';
import { isPlainName } from '@ebpf-studio/remote-agent';
import { entryOf, type YamlChecker, type YamlEntry } from './yaml-checker';

/** A list item of ebpf-studio.yaml that is a map with a `name` (a service, a program). */
export interface NamedEntry {
  get(key: string): YamlEntry | undefined;
  /** The name as written; undefined when missing (a bad name is reported and counts in problems). */
  name: string | undefined;
  /** How many problems were known before this entry: more afterwards means the entry is invalid. */
  problemsBefore: number;
}

/** Reads `where` as a map with only `keys` and a plain `name`, reporting what is wrong at its position. */
export function readNamedEntry(check: YamlChecker, node: unknown, fallback: unknown, where: string, keys: readonly string[]): NamedEntry | undefined {
  const entries = check.pairs(node, fallback, where);
  if (!isMap(node)) return undefined;
  check.unknownKeys(entries, keys, where, node);
  const get = (key: string): YamlEntry | undefined => entryOf(entries, key);
  const problemsBefore = check.problems.length;
  const nameEntry = get('name');
  const name = nameEntry ? check.string(nameEntry.value, nameEntry.keyNode, `${where}.name`) : undefined;
  if (!nameEntry) check.error(node, fallback, `${where} has no name`);
  else if (name !== undefined && !isPlainName(name)) check.error(nameEntry.value, node, `${where}.name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
  return { get, name, problemsBefore };
}
