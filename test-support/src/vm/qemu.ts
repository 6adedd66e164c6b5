import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ArchProfile } from './arch';

export interface QemuFiles {
  readonly vmlinuz: string;
  readonly overlay: string;
  readonly pidFile: string;
  readonly monitorSocket: string;
  /** Serial console and QEMU's own stderr. */
  readonly logFile: string;
}

export interface QemuOptions {
  readonly name: string;
  readonly port: number;
  readonly memoryMiB: number;
  readonly cpus: number;
}

export interface QemuProcess {
  readonly pid: number;
  /** Resolves when QEMU has exited (never rejects). */
  readonly exited: Promise<void>;
  hasExited(): boolean;
}

/** The run directory's file names. */
export function qemuFiles(runDir: string, vmlinuz: string, logFile: string): QemuFiles {
  return {
    vmlinuz,
    overlay: join(runDir, 'disk.qcow2'),
    pidFile: join(runDir, 'qemu.pid'),
    monitorSocket: join(runDir, 'monitor.sock'),
    logFile,
  };
}

/** What a guest is booted with, whatever runs it: the harness's VMs and the arm64 image's build. */
export interface MachineSpec {
  readonly name: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly vmlinuz: string;
  /** Kernel arguments after the root disk and the console. */
  readonly append: readonly string[];
  /** QEMU's `-drive` value for the root disk (`id=d0`). */
  readonly drive: string;
  /** QEMU's `-nic` value. */
  readonly nic: string;
}

/**
 * QEMU with software emulation (KVM here is a nested layer that cannot run standard kernels), the
 * architecture's machine and CPU, an NVMe root disk (built into the cloud kernels; no initramfs) and the
 * serial console on stdout: `[binary, ...arguments]`.
 */
export function qemuCommand(profile: ArchProfile, spec: MachineSpec): string[] {
  return [
    profile.qemu,
    '-name', spec.name,
    ...profile.machine,
    '-accel', 'tcg,tb-size=256',
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-nographic',
    '-no-reboot',
    '-kernel', spec.vmlinuz,
    '-append', ['root=/dev/nvme0n1', 'rw', 'rootwait', `console=${profile.console}`, 'panic=1', ...spec.append].join(' '),
    '-drive', spec.drive,
    '-device', 'nvme,drive=d0,serial=ebst0',
    '-nic', spec.nic,
  ];
}

/**
 * Starts a VM in the background: user-mode networking with SSH forwarded from 127.0.0.1 only, a copy-on-
 * write overlay as its disk, a monitor socket and a pidfile. `setpriv --pdeathsig KILL` ends QEMU if this
 * process dies without running its exit hooks (SIGKILL).
 */
export function startQemu(profile: ArchProfile, files: QemuFiles, options: QemuOptions): QemuProcess {
  const args = [
    '--pdeathsig', 'KILL',
    ...qemuCommand(profile, {
      name: options.name,
      memoryMiB: options.memoryMiB,
      cpus: options.cpus,
      vmlinuz: files.vmlinuz,
      append: [],
      drive: `file=${files.overlay},format=qcow2,if=none,id=d0`,
      nic: `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${options.port}-:22`,
    }),
    '-pidfile', files.pidFile,
    '-monitor', `unix:${files.monitorSocket},server=on,wait=off`,
  ];
  const log = openSync(files.logFile, 'a');
  try {
    const child = spawn('setpriv', args, { stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`could not start ${profile.qemu} (see ${files.logFile})`);
    let exited = false;
    const exitedPromise = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', () => {
        exited = true;
        resolve();
      });
    });
    return { pid: child.pid, exited: exitedPromise, hasExited: () => exited };
  } finally {
    closeSync(log);
  }
}

/**
 * Sends `quit` to QEMU's monitor socket and waits up to `ms` for QEMU to exit; false when the socket did
 * not take the command or QEMU is still running. (The socket may close seconds after the command.)
 */
export async function monitorQuit(socketPath: string, exited: Promise<void>, ms: number): Promise<boolean> {
  const socket = connect(socketPath);
  try {
    const sent = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => socket.write('quit\n', (err) => resolve(err === undefined || err === null)));
      socket.once('error', () => resolve(false));
    });
    return sent && (await within(exited, ms));
  } finally {
    socket.destroy();
  }
}

/** Resolves true when `promise` settles within `ms`. */
export async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
