import { spawn } from 'node:child_process';

/**
 * An exclusive lock on `file` held by a `flock` child that waits on our pipe: the lock goes away when we
 * release it or when this process dies in any way (the pipe closes), so a killed build never wedges the cache.
 */
export async function withFileLock<T>(file: string, timeoutMs: number, body: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      holder.stdout.once('data', () => resolve());
      holder.once('error', reject);
      holder.once('exit', (code) => reject(new Error(`could not lock ${file} within ${timeoutMs} ms (flock exit ${code}) ${stderr}`)));
    });
    return await body();
  } finally {
    holder.stdin.end();
    holder.kill('SIGTERM');
  }
}
