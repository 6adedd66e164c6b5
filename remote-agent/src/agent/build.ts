import { execFile, spawn } from 'node:child_process';
import type { BuildParams, BuildResult } from '../protocol';

const DEFAULT_TIMEOUT_MS = 20_000;
/** Arguments that would make clang read or write files other than stdin/stdout, or run plugins. */
const REFUSED_ARG = /^-(o|MF|MD|MMD|Xclang|load|fplugin|B|save-temps|###)/;

function clangVersion(clang: string): Promise<string> {
  return new Promise((resolve) => execFile(clang, ['--version'], (err, out) => resolve(err ? 'unknown' : out.split('\n')[0] ?? 'unknown')));
}

/**
 * Compile on the node with the node's clang (when the node has one): the text arrives in JSON-RPC
 * and goes to clang on stdin under a line marker; arguments are an array and are checked, so nothing
 * of the user's ever reaches a shell or names an output file.
 */
export async function buildOnNode(params: BuildParams): Promise<BuildResult> {
  const clang = params.clang ?? 'clang';
  if (!/^[A-Za-z0-9_./+-]+$/.test(clang)) throw new Error(`not a clang path: ${JSON.stringify(clang)}`);
  const refused = params.args.find((a) => REFUSED_ARG.test(a));
  if (refused) throw new Error(`clang argument ${JSON.stringify(refused)} is not accepted for a build on the node`);
  const version = await clangVersion(clang);
  return new Promise((resolve, reject) => {
    const child = spawn(clang, [...params.args, '-x', 'c', '-', '-c', '-o', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), params.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(err.code === 'ENOENT' ? `no ${clang} on this node: install clang there, or build on the controller` : err.message));
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) {
        reject(new Error(`clang on the node did not finish within ${params.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
        return;
      }
      resolve({ ...(code === 0 ? { object: Buffer.concat(out).toString('base64') } : {}), stderr, clangVersion: version });
    });
    child.stdin.end(`# 1 "${params.file.replace(/["\\\n]/g, '_')}"\n${params.text}`);
  });
}
