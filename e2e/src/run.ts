import { spawn } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Receives every line the command prints (stdout and stderr). */
  log?: (line: string) => void;
}

/** Run a command (argument array, no shell); resolves with its stdout, rejects with its output on failure. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    const collect = (isStdout: boolean) => (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (isStdout) stdout += text;
      output += text;
      if (options.log) for (const line of text.split('\n')) if (line.trim()) options.log(line);
    };
    child.stdout.on('data', collect(true));
    child.stderr.on('data', collect(false));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`));
    });
  });
}
