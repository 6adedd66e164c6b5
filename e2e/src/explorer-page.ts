import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { onProcessExit, pidAlive } from '@ebpf-studio/test-support';
import { poll } from './poll';
import { REPO_ROOT } from './vsix';

/** A page or a webview's frame: where a Verifier Explorer page is. */
export interface PageRoot {
  locator(selector: string): Locator;
}

/** What a Verifier Explorer page shows at a glance, to compare two of them. */
export interface ExplorerSummary {
  programs: string[];
  verdict: string;
  file: string;
  streamCount: string;
  /** The selected instruction: `insn N · line L`. */
  status: string;
  /** The source line highlighted (data-line of #source), '' when none. */
  sourceLine: string;
}

export async function explorerSummary(root: PageRoot): Promise<ExplorerSummary> {
  const text = async (selector: string): Promise<string> => (await root.locator(selector).innerText({ timeout: 5000 })).trim();
  return {
    programs: (await root.locator('#program option').allInnerTexts()).map((t) => t.trim()),
    verdict: await text('#verdict'),
    file: await text('#file'),
    streamCount: await text('#stream-count'),
    status: await text('#status'),
    sourceLine: (await root.locator('#source').getAttribute('data-line', { timeout: 5000 })) ?? '',
  };
}

export interface ExploreServer {
  url: string;
  /** Ctrl-C, as a person stops it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** `ebpf-studio explore FILE --no-open` from the bundled CLI (what the VSIX and the README ship); resolves with the URL it prints. */
export async function startExploreCli(file: string, timeoutMs = 60_000): Promise<ExploreServer> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'ebpf-studio.js'), 'explore', file, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = onProcessExit(() => {
    if (child.pid !== undefined && pidAlive(child.pid)) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const code = await exited;
    forget();
    return code;
  };
  try {
    const url = await poll(
      () => {
        if (child.exitCode !== null) throw new Error(`ebpf-studio explore exited with ${child.exitCode}: ${output}`);
        return /Verifier Explorer: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(output)?.[1];
      },
      timeoutMs,
      () => `ebpf-studio explore printed no URL within ${timeoutMs} ms: ${output}`,
    );
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
