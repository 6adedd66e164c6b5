import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../ports';
import { archProfile, QEMU_BINARIES, type ArchProfile, type VmArch } from './arch';
import { cacheLayout, vmCacheDir } from './cache';
import { commandLine, onProcessExit, pidAlive, removeTree } from './cleanup';
import { run } from './exec';
import { buildVmImage, type VmImage } from './image';
import { writeKnownHosts } from './keys';
import { monitorQuit, qemuFiles, startQemu, within, type QemuFiles, type QemuProcess } from './qemu';
import { sshBanner, sshRun, writeSshConfig, type SshTarget } from './ssh';

export interface StartVmOptions {
  /** A short name (letters, digits, dashes); the VM's name adds the pid and a counter to it. */
  name: string;
  /** The image to boot; default `buildVmImage({ cacheDir, arch })`. */
  image?: VmImage;
  cacheDir?: string;
  /** The guest's architecture when no image is given; default amd64. */
  arch?: VmArch;
  memoryMiB?: number;
  cpus?: number;
  /** From QEMU's start to an SSH command that works; default 180 s. */
  bootTimeoutMs?: number;
}

export interface VmStopResult {
  /** How QEMU ended: the guest powered off, the monitor's `quit`, SIGKILL, or it had exited before stop(). */
  readonly method: 'poweroff' | 'monitor-quit' | 'kill' | 'exited';
  readonly elapsedMs: number;
}

/** A running VM reachable over SSH on 127.0.0.1. */
export interface VmNode {
  /** `<name>-<pid>-<n>`: also the `Host` alias in `sshConfigFile`. */
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'root';
  readonly identityFile: string;
  /** A hashed known_hosts entry for `[127.0.0.1]:<port>` with the image's host key. */
  readonly knownHostsFile: string;
  /** `ssh -F <this> <name>` connects with strict host key checking and batch mode. */
  readonly sshConfigFile: string;
  /** The guest's `uname -r`. */
  readonly kernelRelease: string;
  readonly arch: VmArch;
  /** Serial console and QEMU's stderr (kept in the cache's logs/ after the VM is gone). */
  readonly logFile: string;
  /** QEMU's pid. */
  readonly pid: number;
  /** From QEMU's start to the first SSH command that worked. */
  readonly bootMs: number;
  /** Runs an argument array on the guest (each argument quoted for the remote shell); returns stdout. */
  exec(argv: readonly string[], timeoutMs?: number): Promise<string>;
  /** Powers the guest off (falls back to the monitor's quit, then SIGKILL) and removes the VM's files. Idempotent. */
  stop(): Promise<VmStopResult>;
}

const RUN_PREFIX = 'ebst-vm-';
const DEFAULT_BOOT_TIMEOUT_MS = 180_000;
const PORT_ATTEMPTS = 5;
const POWEROFF_WAIT_MS = 30_000;
const QUIT_WAIT_MS = 10_000;
const LOG_TAIL_CHARS = 3000;
let counter = 0;

/** Boots a VM from a copy-on-write overlay of the cached image and waits until SSH works. */
export async function startVm(options: StartVmOptions): Promise<VmNode> {
  sweepStaleVms();
  const image = options.image ?? (await buildVmImage({ cacheDir: options.cacheDir, arch: options.arch }));
  const profile = archProfile(image.arch);
  const layout = cacheLayout(vmCacheDir(options.cacheDir));
  counter += 1;
  const name = `${options.name.toLowerCase().replace(/[^a-z0-9-]/g, '')}-${process.pid}-${counter}`;
  const runDir = join(tmpdir(), `${RUN_PREFIX}${name}`);
  const logFile = join(layout.logs, `vm-${name}.log`);
  let qemu: QemuProcess | undefined;
  const files = qemuFiles(runDir, image.vmlinuz, logFile);
  const forget = onProcessExit(() => discardRun(runDir));
  try {
    removeTree(runDir);
    mkdirSync(runDir, { mode: 0o700 });
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'raw', files.overlay]);
    const started = Date.now();
    const deadline = started + (options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS);
    const booted = await bootWithFreePort(profile, files, name, options, deadline);
    qemu = booted.qemu;
    const target: SshTarget = { alias: name, configFile: join(runDir, 'ssh_config') };
    const knownHostsFile = join(runDir, 'known_hosts');
    await writeKnownHosts(knownHostsFile, '127.0.0.1', booted.port, image.hostPublicKey);
    writeSshConfig(target.configFile, name, booted.port, image.identityFile, knownHostsFile);
    const kernelRelease = await firstCommand(target, booted.qemu, deadline, logFile);
    return makeNode({
      name, arch: image.arch, runDir, files, target, qemu: booted.qemu, port: booted.port, identityFile: image.identityFile,
      knownHostsFile, kernelRelease, bootMs: Date.now() - started, forget,
    });
  } catch (err) {
    if (qemu && !qemu.hasExited()) {
      killQemu(qemu.pid, files.pidFile);
      await qemu.exited;
    }
    forget();
    removeTree(runDir);
    throw err;
  }
}

async function bootWithFreePort(profile: ArchProfile, files: QemuFiles, name: string, options: StartVmOptions, deadline: number): Promise<{ qemu: QemuProcess; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    const logOffset = existsSync(files.logFile) ? statSync(files.logFile).size : 0;
    const qemu = startQemu(profile, files, { name, port, memoryMiB: options.memoryMiB ?? 1024, cpus: options.cpus ?? 2 });
    const state = await waitForBanner(qemu, port, deadline);
    if (state === 'ready') return { qemu, port };
    if (state === 'timeout') {
      killQemu(qemu.pid, files.pidFile);
      await qemu.exited;
      throw bootError(`no SSH banner on 127.0.0.1:${port} before the boot timeout`, files.logFile);
    }
    const lostPortRace = readFileSync(files.logFile).subarray(logOffset).toString('utf8').includes('host forwarding rule');
    if (!lostPortRace || attempt === PORT_ATTEMPTS) throw bootError(`${profile.qemu} exited during boot`, files.logFile);
  }
}

async function waitForBanner(qemu: QemuProcess, port: number, deadline: number): Promise<'ready' | 'exited' | 'timeout'> {
  while (Date.now() < deadline) {
    if (qemu.hasExited()) return 'exited';
    if (await sshBanner(port)) return 'ready';
    if (await within(qemu.exited, 1000)) return 'exited';
  }
  return 'timeout';
}

/** The first real SSH command (it proves the key, the known_hosts entry and the config): `uname -r`. */
async function firstCommand(target: SshTarget, qemu: QemuProcess, deadline: number, logFile: string): Promise<string> {
  let last: unknown;
  while (Date.now() < deadline && !qemu.hasExited()) {
    try {
      return (await sshRun(target, ['uname', '-r'], 30_000)).stdout.trim();
    } catch (err) {
      last = err;
      await within(qemu.exited, 1000);
    }
  }
  throw bootError(`SSH answered but \`uname -r\` did not work: ${String(last)}`, logFile);
}

function bootError(message: string, logFile: string): Error {
  return new Error(`VM boot failed: ${message}; serial console and QEMU log: ${logFile}\n${logTail(logFile)}`);
}

function logTail(logFile: string): string {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-LOG_TAIL_CHARS) : '';
}

interface NodeParts {
  name: string;
  arch: VmArch;
  runDir: string;
  files: QemuFiles;
  target: SshTarget;
  qemu: QemuProcess;
  port: number;
  identityFile: string;
  knownHostsFile: string;
  kernelRelease: string;
  bootMs: number;
  forget: () => void;
}

function makeNode(parts: NodeParts): VmNode {
  let stopping: Promise<VmStopResult> | undefined;
  return {
    name: parts.name,
    host: '127.0.0.1',
    port: parts.port,
    user: 'root',
    identityFile: parts.identityFile,
    knownHostsFile: parts.knownHostsFile,
    sshConfigFile: parts.target.configFile,
    kernelRelease: parts.kernelRelease,
    arch: parts.arch,
    logFile: parts.files.logFile,
    pid: parts.qemu.pid,
    bootMs: parts.bootMs,
    async exec(argv, timeoutMs) {
      return (await sshRun(parts.target, argv, timeoutMs)).stdout;
    },
    stop() {
      stopping ??= stopVm(parts);
      return stopping;
    },
  };
}

async function stopVm(parts: NodeParts): Promise<VmStopResult> {
  const started = Date.now();
  const { qemu } = parts;
  try {
    if (qemu.hasExited()) return { method: 'exited', elapsedMs: 0 };
    try {
      await sshRun(parts.target, ['systemctl', '--no-block', 'poweroff'], 20_000);
      if (await within(qemu.exited, POWEROFF_WAIT_MS)) return { method: 'poweroff', elapsedMs: Date.now() - started };
    } catch {
      // the guest does not answer: the monitor, then SIGKILL
    }
    if (await monitorQuit(parts.files.monitorSocket, qemu.exited, QUIT_WAIT_MS)) {
      return { method: 'monitor-quit', elapsedMs: Date.now() - started };
    }
    killQemu(qemu.pid, parts.files.pidFile);
    await qemu.exited;
    return { method: 'kill', elapsedMs: Date.now() - started };
  } finally {
    parts.forget();
    removeTree(parts.runDir);
  }
}

/** SIGKILLs a pid if it is still a QEMU started with `marker` among its arguments — never a recycled pid. */
function killQemu(pid: number, marker: string): void {
  const cmd = commandLine(pid);
  if (!cmd || !QEMU_BINARIES.some((binary) => cmd[0]?.endsWith(binary)) || !cmd.includes(marker)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills the run's QEMU (found by its pidfile) and removes its directory; synchronous, for exit hooks and sweeps. */
function discardRun(runDir: string): void {
  const pidFile = join(runDir, 'qemu.pid');
  const pid = Number(readPidFile(pidFile));
  if (pid > 0) killQemu(pid, pidFile);
  removeTree(runDir);
}

/** Kills the QEMUs and removes the run directories of test processes that died without cleaning up. */
export function sweepStaleVms(): void {
  for (const entry of readdirSync(tmpdir())) {
    const match = new RegExp(`^${RUN_PREFIX}[a-z0-9-]*-(\\d+)-\\d+$`).exec(entry);
    if (match && !pidAlive(Number(match[1]))) discardRun(join(tmpdir(), entry));
  }
}

function readPidFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
