/**
 * The guest architectures the VM harness builds and boots. Both run under QEMU's software emulation (TCG)
 * from Debian's cloud kernel with the root file system on NVMe (built into both cloud kernels, so no
 * initramfs) and virtio-net loaded by udev. amd64 matches this machine: debootstrap runs both of its stages
 * here (in a chroot). arm64 is foreign: debootstrap's first stage runs here, its second stage in the arm64
 * guest itself (`second-stage.ts`), so no arm64 code ever runs on this machine.
 */
export const VM_ARCHES = ['amd64', 'arm64'] as const;
export type VmArch = (typeof VM_ARCHES)[number];

export interface ArchProfile {
  readonly arch: VmArch;
  /** The QEMU system emulator, and the Debian package that has it. */
  readonly qemu: string;
  readonly qemuPackage: string;
  /** Machine and CPU arguments for QEMU. */
  readonly machine: readonly string[];
  /** The serial console's device name in the guest kernel. */
  readonly console: string;
  /** True when this machine can run the guest's binaries (chroot); false: the guest finishes its own root file system. */
  readonly native: boolean;
}

const PROFILES: Record<VmArch, ArchProfile> = {
  amd64: {
    arch: 'amd64',
    qemu: 'qemu-system-x86_64',
    qemuPackage: 'qemu-system-x86',
    machine: ['-cpu', 'max'],
    console: 'ttyS0',
    native: true,
  },
  arm64: {
    arch: 'arm64',
    qemu: 'qemu-system-aarch64',
    qemuPackage: 'qemu-system-arm',
    // Neoverse N1 (ARMv8.2 with LSE atomics, as in AWS Graviton2): a real server core. `max` would add
    // pointer authentication, whose architected cipher QEMU's documentation calls slow to emulate.
    machine: ['-machine', 'virt', '-cpu', 'neoverse-n1'],
    console: 'ttyAMA0',
    native: false,
  },
};

export function archProfile(arch: VmArch): ArchProfile {
  return PROFILES[arch];
}

/** Every QEMU binary the harness starts: a pid is killed only if it is one of these. */
export const QEMU_BINARIES: readonly string[] = VM_ARCHES.map((arch) => PROFILES[arch].qemu);
