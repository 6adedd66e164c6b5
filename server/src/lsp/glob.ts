/** A path glob (`**`, `*`, `?`) as a RegExp matching the end of a '/'-separated path. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`(?:^|/)${re}$`);
}

/** Is this document a BPF program we should verify: it matches a glob, or it is C that uses SEC(. */
export function isBpfDocument(path: string, text: string, globs: readonly string[]): boolean {
  if (globs.some((g) => globToRegExp(g).test(path))) return true;
  return /\.c$/.test(path) && /^\s*SEC\s*\(/m.test(text);
}
