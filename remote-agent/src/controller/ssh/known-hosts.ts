/**
 * known_hosts as OpenSSH reads and writes it: plain patterns (`host`, `[host]:port`, wildcards,
 * `!negation`, comma lists), hashed names (`|1|salt|hmac-sha1`, Debian's default), several key types per
 * host, `@revoked` keys; `@cert-authority` lines are not used. New keys are appended hashed.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  readonly type: string;
  readonly fingerprint: string;
  readonly file: string;
  readonly line: number;
}

export type HostKeyCheck =
  | { readonly status: 'known'; readonly entry: KnownKey }
  /** No key of this type is known for the host; `otherTypes` lists what is known (then it is suspicious). */
  | { readonly status: 'unknown'; readonly otherKeys: readonly KnownKey[] }
  | { readonly status: 'changed'; readonly expected: readonly KnownKey[] }
  | { readonly status: 'revoked'; readonly entry: KnownKey };

interface Entry {
  readonly marker: '' | 'revoked' | 'cert-authority';
  readonly patterns: string;
  readonly type: string;
  readonly blob: Buffer;
  readonly file: string;
  readonly line: number;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (its first string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function readEntries(file: string): Entry[] {
  let text: string;
  try {
    if (!statSync(file).isFile()) return [];
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: Entry['marker'] = '';
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'revoked' && m !== 'cert-authority') return;
      marker = m;
    }
    const [patterns, type, base64] = fields;
    if (!patterns || !type || !base64) return;
    entries.push({ marker, patterns, type, blob: Buffer.from(base64, 'base64'), file, line: index + 1 });
  });
  return entries;
}

function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether a host-patterns field names `name` (negations win, as in OpenSSH's match_hostname). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcard(pattern.slice(1), name)) return false;
    } else if (wildcard(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function known(entry: Entry): KnownKey {
  return { type: entry.type, fingerprint: fingerprint(entry.blob), file: entry.file, line: entry.line };
}

function entriesFor(files: readonly string[], name: string): Entry[] {
  return files.flatMap((f) => readEntries(f)).filter((e) => e.marker !== 'cert-authority' && patternsMatch(e.patterns, name));
}

/** Checks the key a server presented for `name` against the known_hosts files. */
export function checkHostKey(files: readonly string[], name: string, blob: Buffer): HostKeyCheck {
  const entries = entriesFor(files, name);
  const revoked = files.flatMap((f) => readEntries(f)).find((e) => e.marker === 'revoked' && e.blob.equals(blob));
  if (revoked) return { status: 'revoked', entry: known(revoked) };
  const type = keyType(blob);
  const sameType = entries.filter((e) => e.marker === '' && e.type === type);
  const match = sameType.find((e) => e.blob.equals(blob));
  if (match) return { status: 'known', entry: known(match) };
  if (sameType.length > 0) return { status: 'changed', expected: sameType.map(known) };
  return { status: 'unknown', otherKeys: entries.filter((e) => e.marker === '').map(known) };
}

/** Key types known for `name`, so the client can ask the server for one of those first (as OpenSSH does). */
export function knownKeyTypes(files: readonly string[], name: string): string[] {
  return [...new Set(entriesFor(files, name).filter((e) => e.marker === '').map((e) => e.type))];
}

/** Appends `name key` to the file, the name hashed; creates the file (0600) and its directory (0700). */
export function addHostKey(file: string, name: string, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  const needsNewline = existsSync(file) && !/(^|\n)$/.test(readFileSync(file, 'utf8'));
  appendFileSync(file, `${needsNewline ? '\n' : ''}|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyType(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}
