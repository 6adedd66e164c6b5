import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES_DIR = '/etc/apt/sources.list.d';

/** The Debian mirror the machine's apt sources use for `suite` (deb822 .sources or one-line .list). */
export function debianMirror(suite: string): string {
  const mirror = findDebianMirror(suite);
  if (mirror === undefined) throw new Error(`no apt source for ${suite} main in /etc/apt/sources.list{,.d}`);
  return mirror;
}

/** Like debianMirror, undefined when the machine's apt has no source for `suite` (e.g. no -updates). */
export function findDebianMirror(suite: string): string | undefined {
  const files = ['/etc/apt/sources.list', ...(existsSync(SOURCES_DIR) ? readdirSync(SOURCES_DIR).map((f) => join(SOURCES_DIR, f)) : [])];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const mirror = file.endsWith('.sources') ? fromDeb822(text, suite) : file.endsWith('.list') ? fromOneLine(text, suite) : undefined;
    if (mirror !== undefined) return mirror;
  }
  return undefined;
}

function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string[] =>
      (new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1] ?? '').split(/\s+/).filter((s) => s !== '');
    if (!field('Types').includes('deb') || /^Enabled:\s*no/mi.test(stanza)) continue;
    if (field('Suites').includes(suite) && field('Components').includes('main')) return field('URIs')[0];
  }
  return undefined;
}

function fromOneLine(text: string, suite: string): string | undefined {
  for (const line of text.split('\n')) {
    const words = line.replace(/\[[^\]]*\]/, '').trim().split(/\s+/);
    if (words[0] === 'deb' && words[2] === suite && words.slice(3).includes('main')) return words[1];
  }
  return undefined;
}
