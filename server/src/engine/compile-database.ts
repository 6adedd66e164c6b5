import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { EngineError } from './engine-error';

/**
 * A project's compile_commands.json (what `bear -- make`, CMake or a template wrote): the flags its build
 * gives a BPF source, so the studio compiles it as the build does. Only flags that decide what the
 * source means are taken — include paths, macros, forced includes, the C standard, the BPF CPU version
 * and warnings; the compiler, the output, dependency and target flags stay the studio's own.
 */
export interface DatabaseFlags {
  /** The compile_commands.json the flags came from (a dependency: a change re-verifies). */
  database: string;
  flags: string[];
}

interface Entry {
  directory: string;
  file: string;
  arguments?: string[];
  command?: string;
}

const NAME = 'compile_commands.json';
/** Flags whose value is a path (joined, `-Iinc`, or the next argument, `-I inc`). */
const PATH_FLAGS = ['-I', '-isystem', '-iquote', '-idirafter', '-include', '-imacros'];
/** Flags whose value is a word (joined or the next argument). */
const VALUE_FLAGS = ['-D', '-U'];
/** Flags taken whole when they start so (`-std=gnu11`, `-mcpu=v3`, `-Wall`). */
const WHOLE_FLAGS = [/^-std=/, /^-mcpu=/, /^-mattr=/, /^-W(?![alp],)/];

const cache = new Map<string, { stamp: string; entries: Entry[] }>();

/** The compile_commands.json nearest to `file`: in its directory or an ancestor, or their build/ subdirectory (as clangd looks). */
export function findCompileDatabase(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    for (const candidate of [join(dir, NAME), join(dir, 'build', NAME)]) if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Which compile_commands.json applies to `file` and its state ('' without one): part of a cached verdict's key. */
export function compileDatabaseStamp(file: string): string {
  const database = findCompileDatabase(file);
  if (!database) return '';
  try {
    const s = statSync(database);
    return `${database}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}

/** Split a compile command as clang's JSON compilation database does: POSIX quotes and backslashes, nothing run. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) word += command[++i];
      else word += c;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The flags of one entry's command line (its first word is the compiler) that the studio takes. */
export function selectFlags(args: readonly string[], directory: string): string[] {
  const flags: string[] = [];
  const pathIn = (p: string): string => (isAbsolute(p) ? p : resolve(directory, p));
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const pathFlag = PATH_FLAGS.find((f) => arg.startsWith(f));
    if (pathFlag) {
      const value = arg === pathFlag ? args[++i] : arg.slice(pathFlag.length);
      if (value !== undefined) flags.push(pathFlag, pathIn(value));
      continue;
    }
    const valueFlag = VALUE_FLAGS.find((f) => arg.startsWith(f));
    if (valueFlag) {
      const value = arg === valueFlag ? args[++i] : arg.slice(valueFlag.length);
      if (value !== undefined) flags.push(`${valueFlag}${value}`);
      continue;
    }
    if (WHOLE_FLAGS.some((re) => re.test(arg))) flags.push(arg);
  }
  return flags;
}

function entriesOf(database: string): Entry[] {
  const s = statSync(database);
  const stamp = `${s.size}:${s.mtimeMs}`;
  const cached = cache.get(database);
  if (cached?.stamp === stamp) return cached.entries;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(database, 'utf8'));
  } catch (err) {
    throw new EngineError(`${database} is not valid JSON (${(err as Error).message})`, 'fix or regenerate it (e.g. `bear -- make`), or delete it');
  }
  const entries = (Array.isArray(parsed) ? parsed : []).filter(
    (e): e is Entry =>
      typeof e === 'object' &&
      e !== null &&
      typeof e.directory === 'string' &&
      typeof e.file === 'string' &&
      ((Array.isArray(e.arguments) && (e.arguments as unknown[]).every((a) => typeof a === 'string')) || typeof e.command === 'string'),
  );
  cache.set(database, { stamp, entries });
  return entries;
}

/**
 * The build's flags for `file` from the nearest compile_commands.json: its own entry, or, for a BPF
 * source the database does not list yet (a program just added), those of a `.bpf.c` beside it. Undefined
 * without a database or a fitting entry; a database that is not JSON throws, naming the file and the fix.
 */
export function compileDatabaseFlags(file: string): DatabaseFlags | undefined {
  const database = findCompileDatabase(file);
  if (!database) return undefined;
  const target = resolve(file);
  const entries = entriesOf(database);
  const pathOf = (e: Entry): string => resolve(e.directory, e.file);
  const entry =
    entries.find((e) => pathOf(e) === target) ??
    (target.endsWith('.bpf.c') ? entries.find((e) => dirname(pathOf(e)) === dirname(target) && basename(pathOf(e)).endsWith('.bpf.c')) : undefined);
  if (!entry) return undefined;
  const args = entry.arguments ?? splitCommand(entry.command!);
  return { database, flags: selectFlags(args, entry.directory) };
}
