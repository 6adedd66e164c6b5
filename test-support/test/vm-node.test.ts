import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { requireKernel } from '../src/require-kernel';
import { buildVmImage, startVm, sweepStaleVms, vmCacheDir, type VmNode } from '../src/vm';

const execFileAsync = promisify(execFile);

/** `ssh` with the VM's generated config, strict host key checking against its known_hosts, no prompts. */
async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if (processGone(pid)) return true;
  }
  return processGone(pid);
}

async function ssh(vm: VmNode, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['-F', vm.sshConfigFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${vm.knownHostsFile}`, vm.name, '--', ...argv];
  try {
    const { stdout, stderr } = await execFileAsync('ssh', args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

test('a VM node built from Debian packages boots the 6.1 kernel and answers SSH; no Node.js; stop leaves nothing', { timeout: 45 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const interrupted = join(vmCacheDir(), 'images', 'amd64', '.build-0123456789abcdef-999999999');
  mkdirSync(interrupted, { recursive: true });
  writeFileSync(join(interrupted, 'base.img.partial'), 'half an image');
  const image = await buildVmImage();
  assert.ok(!existsSync(interrupted), 'the leftover of an interrupted build is removed, never used');
  assert.ok(image.image.startsWith(join(vmCacheDir(), 'images', 'amd64', image.recipeKey)));
  t.diagnostic(`image ${image.recipeKey}: ${image.kernelPackage} ${image.kernelVersion} (${image.kernelRelease}), ${image.cached ? 'cached' : 'built'} in ${image.elapsedMs} ms`);
  assert.match(image.kernelRelease, /^6\.1\.0-\d+-cloud-amd64$/);

  const vm = await startVm({ name: 'vmtest', image });
  let stopped = false;
  t.after(async () => {
    if (!stopped) await vm.stop();
  });
  t.diagnostic(`boot to SSH ${vm.bootMs} ms on 127.0.0.1:${vm.port} (log ${vm.logFile})`);
  assert.equal(vm.host, '127.0.0.1');
  assert.equal(vm.user, 'root');
  assert.equal(vm.kernelRelease, image.kernelRelease);

  const knownHosts = readFileSync(vm.knownHostsFile, 'utf8');
  assert.match(knownHosts, /^\|1\|/, 'the known_hosts entry is hashed');
  assert.doesNotMatch(knownHosts, /127\.0\.0\.1/);

  const uname = await ssh(vm, ['uname', '-r']);
  assert.equal(uname.code, 0, uname.stderr);
  assert.equal(uname.stdout.trim(), image.kernelRelease);
  assert.match(uname.stdout, /^6\.1\./);

  const bpftool = await ssh(vm, ['bpftool', 'version']);
  assert.equal(bpftool.code, 0, bpftool.stderr);
  assert.match(bpftool.stdout, /bpftool v\d+/);
  t.diagnostic(bpftool.stdout.split('\n')[0] ?? '');

  const btf = await ssh(vm, ['ls', '/sys/kernel/btf/vmlinux']);
  assert.equal(btf.code, 0, btf.stderr);
  assert.equal(btf.stdout.trim(), '/sys/kernel/btf/vmlinux');

  const node = await ssh(vm, ['command', '-v', 'node']);
  assert.notEqual(node.code, 0, `Node.js must not be in the image, found ${node.stdout}`);
  assert.equal(node.stdout, '');

  const stop = await vm.stop();
  stopped = true;
  t.diagnostic(`stop: ${stop.method} in ${stop.elapsedMs} ms`);
  assert.equal(stop.method, 'poweroff');
  assert.ok(processGone(vm.pid), `qemu pid ${vm.pid} is gone`);
  assert.ok(!existsSync(vm.sshConfigFile), 'the VM run directory (overlay, sockets, ssh files) is removed');
});

test('stop() falls back to the monitor when the guest no longer answers SSH', { timeout: 10 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vm = await startVm({ name: 'vmquit', image: await buildVmImage() });
  t.after(() => vm.stop());
  await vm.exec(['systemctl', 'stop', 'ssh.service']);
  const stop = await vm.stop();
  t.diagnostic(`stop without SSH: ${stop.method} in ${stop.elapsedMs} ms`);
  assert.equal(stop.method, 'monitor-quit');
  assert.ok(processGone(vm.pid));
  assert.ok(!existsSync(vm.knownHostsFile));
});

/** A child process that boots a VM, prints it as JSON and waits to be killed. */
function vmInChild(name: string): Promise<{ child: ReturnType<typeof spawn>; vm: { pid: number; knownHostsFile: string } }> {
  const script = `require(${JSON.stringify(join(__dirname, '..', 'src', 'vm'))}).startVm({ name: ${JSON.stringify(name)} })
    .then((vm) => { console.log(JSON.stringify(vm)); setInterval(() => {}, 1000); }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve({ child, vm: JSON.parse(out) as { pid: number; knownHostsFile: string } });
    });
    child.once('exit', (code) => reject(new Error(`VM child exited with ${code} before the VM was up`)));
  });
}

test('a test process that dies takes its VM with it: SIGTERM runs the exit hooks, SIGKILL the parent-death signal', { timeout: 10 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  await buildVmImage();
  const [termed, killed] = await Promise.all([vmInChild('vmterm'), vmInChild('vmkill')]);
  t.after(() => {
    for (const { child } of [termed, killed]) child.kill('SIGKILL');
  });
  termed.child.kill('SIGTERM');
  killed.child.kill('SIGKILL');
  assert.ok(await waitGone(termed.vm.pid, 10_000), 'QEMU is gone after SIGTERM of its test process');
  assert.ok(!existsSync(termed.vm.knownHostsFile), 'SIGTERM: the exit hook removed the run directory');
  assert.ok(await waitGone(killed.vm.pid, 10_000), 'QEMU is gone after SIGKILL of its test process');
  assert.ok(existsSync(killed.vm.knownHostsFile), 'SIGKILL leaves the run directory...');
  sweepStaleVms();
  assert.ok(!existsSync(killed.vm.knownHostsFile), '...and the next start sweeps it');
});
