/**
 * Uploads over SFTP that are never seen half-written: each file goes to a temporary name
 * (`<name>.part-<random>`) and is renamed over its final name when complete (OpenSSH's posix-rename);
 * the caller writes a completion marker last, and nothing runs from a directory without it. Every
 * operation fails as soon as the connection drops (ssh2 would leave it waiting forever) or the signal
 * given to open() fires (the caller then stops what is under way: the bootstrap resets the connection).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SFTPWrapper } from 'ssh2';
import type { PayloadFile } from '../payload';
import { whenAborted } from '../shared-attempt';
import type { SshConnection } from './connection';

const PART = /\.part-[0-9a-f]{12}$/;

export interface UploadReport {
  readonly files: number;
  readonly bytes: number;
  readonly ms: number;
}

interface DirEntry {
  filename: string;
  attrs: { isDirectory(): boolean; size: number };
}

/** A temporary file an interrupted upload left behind. */
export interface StalePart {
  readonly path: string;
  readonly bytes: number;
}

function isMissing(err: unknown): boolean {
  return (err as { code?: number }).code === 2;
}

function temporaryName(path: string): string {
  return `${path}.part-${randomBytes(6).toString('hex')}`;
}

/** The node's files through the connection's SFTP session. Paths are absolute and '/'-separated. */
export class RemoteFiles {
  private constructor(
    private readonly sftp: SFTPWrapper,
    private readonly stop: Promise<never>,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async open(connection: SshConnection, signal?: AbortSignal): Promise<RemoteFiles> {
    const stop = Promise.race([connection.whenClosed(), whenAborted(signal)]);
    stop.catch(() => undefined);
    return new RemoteFiles(await Promise.race([connection.sftp(), stop]), stop, signal);
  }

  private call<T>(fn: (sftp: SFTPWrapper, cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return Promise.race([this.stop, new Promise<T>((resolve, reject) => fn(this.sftp, (err, value) => (err ? reject(err) : resolve(value as T))))]);
  }

  /** mkdir -p */
  async makeDirectories(path: string): Promise<void> {
    let current = '';
    for (const part of path.split('/').filter(Boolean)) {
      current += `/${part}`;
      try {
        await this.call<void>((s, cb) => s.mkdir(current, { mode: 0o700 }, cb));
      } catch (err) {
        const stat = await this.call<{ isDirectory(): boolean }>((s, cb) => s.stat(current, cb)).catch(() => undefined);
        if (!stat?.isDirectory()) throw new Error(`cannot create ${current} on the node: ${(err as Error).message}`);
      }
    }
  }

  private async renameOver(from: string, to: string): Promise<void> {
    try {
      await this.call<void>((s, cb) => s.ext_openssh_rename(from, to, cb));
    } catch (err) {
      if (!/not supported/i.test((err as Error).message)) throw err;
      await this.call<void>((s, cb) => s.unlink(to, cb)).catch((e: unknown) => {
        if (!isMissing(e)) throw e;
      });
      await this.call<void>((s, cb) => s.rename(from, to, cb));
    }
  }

  /** Writes `content` to `path` through a temporary name. */
  async writeFileAtomically(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const temp = temporaryName(path);
    await this.call<void>((s, cb) => s.writeFile(temp, content, { mode }, cb));
    await this.renameOver(temp, path);
  }

  /**
   * Uploads `file` from this machine to `remotePath` through a temporary name; `onBytes` sees the running
   * total. A failed upload removes its temporary file, a cancelled one leaves it (nothing more is sent
   * once cancelled): removeStaleParts does, next time.
   */
  async putFileAtomically(file: PayloadFile, remotePath: string, onBytes?: (bytes: number) => void): Promise<void> {
    const temp = temporaryName(remotePath);
    try {
      await this.call<void>((s, cb) => s.fastPut(file.source, temp, { mode: file.mode, step: (done) => onBytes?.(done) }, cb));
      await this.call<void>((s, cb) => s.chmod(temp, file.mode, cb));
      await this.renameOver(temp, remotePath);
    } catch (err) {
      if (!this.signal?.aborted) await this.call<void>((s, cb) => s.unlink(temp, cb)).catch(() => undefined);
      throw err;
    }
  }

  /** Uploads every file under `dir` (creating subdirectories). Leaves no completion marker: the caller does. */
  async uploadFiles(dir: string, files: readonly PayloadFile[], onProgress?: (bytes: number) => void): Promise<UploadReport> {
    const started = performance.now();
    const dirs = new Set(files.map((f) => `${dir}/${f.path}`.replace(/\/[^/]+$/, '')));
    for (const d of [...dirs].sort()) await this.makeDirectories(d);
    let done = 0;
    for (const file of files) {
      await this.putFileAtomically(file, `${dir}/${file.path}`, (bytes) => onProgress?.(done + bytes));
      done += file.size;
      onProgress?.(done);
    }
    return { files: files.length, bytes: done, ms: performance.now() - started };
  }

  /** Removes temporary files an interrupted upload left under `dir`; resolves with those it removed. */
  async removeStaleParts(dir: string): Promise<StalePart[]> {
    let entries: DirEntry[];
    try {
      entries = await this.call<DirEntry[]>((s, cb) => s.readdir(dir, cb));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const removed: StalePart[] = [];
    for (const entry of entries) {
      const path = `${dir}/${entry.filename}`;
      if (entry.attrs.isDirectory()) removed.push(...(await this.removeStaleParts(path)));
      else if (PART.test(entry.filename)) {
        const gone = await this.call<void>((s, cb) => s.unlink(path, cb)).then(() => true, () => false);
        if (gone) removed.push({ path, bytes: entry.attrs.size });
      }
    }
    return removed;
  }
}
