import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined | null = null;

/** The directory holding `docs/errors/` (the repository, or the extension's install directory). */
function docsRoot(): string | undefined {
  if (root !== null) return root;
  root = undefined;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'docs', 'errors'))) {
      root = dir;
      break;
    }
  }
  return root;
}

/** Absolute path of a repo-relative doc page (e.g. 'docs/errors/BPF-NULL-DEREF.md'), if it is installed. */
export function docPath(relative: string): string | undefined {
  const base = docsRoot();
  const path = base ? join(base, relative) : undefined;
  return path && existsSync(path) ? path : undefined;
}
