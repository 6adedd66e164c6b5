import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_ENV = 'EBPF_STUDIO_CACHE';
const DEFAULT_CACHE = '/var/cache/ebpf-studio';
const KEPT_LOGS = 20;

/** Where images, keys and logs live: `<cacheDir>/vm`, `$EBPF_STUDIO_CACHE/vm` or `/var/cache/ebpf-studio/vm`. */
export function vmCacheDir(cacheDir?: string): string {
  return join(cacheDir ?? process.env[CACHE_ENV] ?? DEFAULT_CACHE, 'vm');
}

export interface CacheLayout {
  readonly root: string;
  readonly images: string;
  readonly keys: string;
  readonly logs: string;
  readonly lockFile: string;
}

export function cacheLayout(root: string): CacheLayout {
  const layout = { root, images: join(root, 'images'), keys: join(root, 'keys'), logs: join(root, 'logs'), lockFile: join(root, 'build.lock') };
  for (const dir of [layout.images, layout.logs]) mkdirSync(dir, { recursive: true });
  return layout;
}

/** Keeps the newest log files (VM serial logs and build logs), so the cache does not grow run by run. */
export function pruneLogs(logs: string): void {
  const files = readdirSync(logs)
    .map((name) => ({ path: join(logs, name), mtime: statSync(join(logs, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const file of files.slice(KEPT_LOGS)) rmSync(file.path, { force: true });
}
