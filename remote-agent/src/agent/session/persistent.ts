import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { listLinks, pinnedLinkId } from '@ebpf-studio/libbpf-ts';
import type { PersistentAttachment } from '../../session-protocol';

/** Where `--persistent` sessions pin their links, one directory per session name. */
export const PERSISTENT_ROOT = '/sys/fs/bpf/ebpf-studio';

/** Every pin a persistent session left, with the link behind it. */
export function listPersistent(): PersistentAttachment[] {
  if (!existsSync(PERSISTENT_ROOT)) return [];
  const links = new Map(listLinks().map((l) => [l.id, l]));
  return readdirSync(PERSISTENT_ROOT).flatMap((session) => {
    const dir = join(PERSISTENT_ROOT, session);
    if (!statSync(dir).isDirectory()) return [];
    return readdirSync(dir).map((name): PersistentAttachment => {
      const path = join(dir, name);
      const linkId = pinnedLinkId(path);
      const link = linkId === undefined ? undefined : links.get(linkId);
      return { session, path, ...(linkId !== undefined ? { linkId } : {}), ...(link ? { type: link.type, progId: link.progId } : {}) };
    });
  });
}

/** Unpin a persistent attachment (only pins under PERSISTENT_ROOT); emptied directories go too. */
export function removePersistent(path: string): void {
  const rel = relative(PERSISTENT_ROOT, path);
  if (rel.startsWith('..') || rel.split('/').length !== 2 || rel.split('/').some((p) => p === '' || p === '..')) {
    throw new Error(`not a persistent attachment of ebpf-studio: ${JSON.stringify(path)} (they live in ${PERSISTENT_ROOT}/<session>/)`);
  }
  if (!existsSync(path)) throw new Error(`no persistent attachment at ${path}`);
  rmSync(path);
  const dir = join(PERSISTENT_ROOT, rel.split('/')[0]!);
  if (readdirSync(dir).length === 0) rmdirSync(dir);
  if (readdirSync(PERSISTENT_ROOT).length === 0) rmdirSync(PERSISTENT_ROOT);
}
