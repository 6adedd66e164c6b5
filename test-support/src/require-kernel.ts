import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'node:test';

/** Set by .ci/run: a test that needs the kernel must fail instead of skipping. */
export const REQUIRE_ENV = 'EBPF_STUDIO_REQUIRE_KERNEL';

/** Why the real kernel cannot be used from this process, or undefined when it can. */
export function kernelUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'not root (run the tests as root, or with sudo, for CAP_BPF/CAP_NET_ADMIN/CAP_SYS_ADMIN)';
  }
  try {
    accessSync('/sys/kernel/btf/vmlinux', constants.R_OK);
  } catch {
    return 'no kernel BTF at /sys/kernel/btf/vmlinux';
  }
  return undefined;
}

export function kernelAvailable(): boolean {
  return kernelUnavailableReason() === undefined;
}

/**
 * Call at the start of a test that needs the real kernel. Returns true when the test may go on.
 * Without the kernel it skips the test, or fails it when EBPF_STUDIO_REQUIRE_KERNEL=1 (CI).
 */
export function requireKernel(t: TestContext): boolean {
  const reason = kernelUnavailableReason();
  if (reason === undefined) return true;
  if (process.env[REQUIRE_ENV] === '1') {
    throw new Error(`kernel test cannot run: ${reason} (${REQUIRE_ENV}=1 forbids skipping)`);
  }
  t.skip(`needs the kernel: ${reason}`);
  return false;
}
