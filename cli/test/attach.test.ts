import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNetnsPair, eventually, requireKernel, tempDir } from '@ebpf-studio/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
const PROGRAM = join(ROOT, 'remote-agent', 'test', 'data', 'xdp-count.bpf.c');

function links(): number[] {
  return (JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { id: number }[]).map((l) => l.id);
}

test('ebpf-studio attach: live stats grow with real traffic, sessions/maps see it, Ctrl-C detaches', { timeout: 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const pair = createNetnsPair({ tag: 'cliat' });
  const env = { ...process.env, EBPF_STUDIO_RUN_DIR: tempDir('ebpf-studio-run-') };
  const inNode = (args: string[]): string[] => ['nsenter', `--net=${pair.a.netns!.path}`, process.execPath, BIN, ...args];
  const argv = inNode(['attach', PROGRAM, '--to', pair.a.ifname, '--lease', '5s']);
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const linkId = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /attached count_packets .* as link (\d+)/.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(Number(m[1]));
        }
        if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`attach exited: ${out}`));
        }
      }, 100);
    });
    assert.ok(links().includes(linkId));
    pair.b.netns!.exec('ping', ['-c', '5', '-i', '0.2', '-W', '1', pair.a.address]);
    // the stats line is printed every second
    const lastRuns = (): number => Number([...out.matchAll(/count_packets: (\d+) runs/g)].at(-1)?.[1] ?? 0);
    assert.ok(await eventually(() => lastRuns() >= 5, 10_000), `stats show the packets: ${out}`);

    const sessions = execFileSync(inNode(['sessions'])[0]!, inNode(['sessions']).slice(1), { env, encoding: 'utf8' });
    assert.match(sessions, /count_packets \(prog \d+\) → .*\[link \d+\]/);
    const maps = execFileSync(inNode(['maps', '--map', 'packets_by_proto'])[0]!, inNode(['maps', '--map', 'packets_by_proto']).slice(1), { env, encoding: 'utf8' });
    assert.match(maps, /^ {2}1 = "?([5-9]|\d\d+)"?$/m, `ICMP (1) counted: ${maps}`);

    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /detached/);
    assert.ok(!links().includes(linkId), 'the link is gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    pair.remove();
  }
});
