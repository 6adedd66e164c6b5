import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { ERRNO, closeFd, errnoOf, syscalls } from './bpf-syscall';
import { ATTACH_TYPE } from './attach/attach-types';
import { linkCreate } from './attach/attachment';

/**
 * What this kernel can attach, probed once per process without side effects: tiny programs are loaded
 * and offered to bpf_link_create with targets that cannot exist (ifindex 0, fd -1), and the kernel's
 * errno says whether it knows the attach type (ENODEV/EBADF: yes, it looked for the target; EINVAL/
 * EOPNOTSUPP: no). Nothing gets attached; every fd is closed.
 */
export interface KernelFeatures {
  kernelRelease: string;
  /** tcx links (Linux ≥ 6.6); otherwise use the clsact fallback. */
  tcx: boolean;
  /** netkit devices (CONFIG_NETKIT). */
  netkit: boolean;
  /** sk_msg/sk_skb bpf_links on sockmaps (Linux ≥ 6.10); otherwise bpf_prog_attach. */
  skMsgLink: boolean;
  /** kprobes (CONFIG_KPROBES: the kprobe PMU or kprobe_events). */
  kprobe: boolean;
  /** Multi-kprobe links (CONFIG_FPROBE). */
  kprobeMulti: boolean;
  uprobe: boolean;
  /** Tracepoint perf events (tracefs is mounted on demand). */
  tracepoint: boolean;
  /** BPF_MAP_TYPE_RINGBUF. */
  ringBuffer: boolean;
  /** /sys/kernel/security/lockdown: 'none', 'integrity' (no bpf_probe_write_user), 'confidentiality' (no kprobes, no reading kernel memory); 'unknown' when securityfs is not mounted. */
  lockdown: LockdownMode;
}

export type LockdownMode = 'none' | 'integrity' | 'confidentiality' | 'unknown';

const PROG_TYPE = { kprobe: 2, schedCls: 3, skMsg: 16 } as const;
const MAP_TYPE_RINGBUF = 27;
/** mov64 r0, 0; exit */
const RETURN_ZERO = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

let cached: KernelFeatures | undefined;

export function lockdownMode(): LockdownMode {
  try {
    const text = readFileSync('/sys/kernel/security/lockdown', 'utf8');
    const mode = /\[(\w+)\]/.exec(text)?.[1];
    return mode === 'none' || mode === 'integrity' || mode === 'confidentiality' ? mode : 'unknown';
  } catch {
    return 'unknown';
  }
}

function loadProbe(type: number, expectedAttachType = 0): number {
  const s = syscalls();
  const opts = {
    sz: s.koffi.sizeof(s.progLoadOpts), attempts: 0, expected_attach_type: expectedAttachType, prog_btf_fd: 0, prog_flags: 0, prog_ifindex: 0,
    kern_version: 0, attach_btf_id: 0, attach_prog_fd: 0, attach_btf_obj_fd: 0, fd_array: null, func_info: null, func_info_cnt: 0,
    func_info_rec_size: 0, line_info: null, line_info_cnt: 0, line_info_rec_size: 0, log_level: 0, log_size: 0, log_buf: null,
  };
  return s.progLoad(type, 'ebst_probe', 'GPL', RETURN_ZERO, RETURN_ZERO.length / 8, opts) as number;
}

/** Loads a probe program, offers it to bpf_link_create, and says whether the errno is one of `known`. */
function linkProbe(progType: number, targetFd: number, attachType: number, known: readonly number[], expectedAttachType = 0): boolean {
  const prog = loadProbe(progType, expectedAttachType);
  if (prog < 0) return false;
  try {
    const link = linkCreate({ fd: prog, name: 'probe' }, targetFd, attachType);
    if (link >= 0) {
      closeFd(link);
      return true;
    }
    return known.includes(errnoOf(link));
  } finally {
    closeFd(prog);
  }
}

function ringBufferProbe(): boolean {
  const fd = syscalls().mapCreate(MAP_TYPE_RINGBUF, null, 0, 0, 4096, null);
  if (fd < 0) return false;
  closeFd(fd);
  return true;
}

/** Probed once per process (≈ 1 ms). */
export function kernelFeatures(): KernelFeatures {
  if (cached) return cached;
  cached = {
    kernelRelease: release(),
    tcx: linkProbe(PROG_TYPE.schedCls, 0, ATTACH_TYPE.tcxIngress, [ERRNO.ENODEV]),
    netkit: linkProbe(PROG_TYPE.schedCls, 0, ATTACH_TYPE.netkitPrimary, [ERRNO.ENODEV]),
    skMsgLink: linkProbe(PROG_TYPE.skMsg, -1, ATTACH_TYPE.skMsgVerdict, [ERRNO.EBADF]),
    kprobe: existsSync('/sys/bus/event_source/devices/kprobe') || existsSync('/sys/kernel/tracing/kprobe_events'),
    kprobeMulti: linkProbe(PROG_TYPE.kprobe, 0, ATTACH_TYPE.traceKprobeMulti, [ERRNO.EINVAL], ATTACH_TYPE.traceKprobeMulti),
    uprobe: existsSync('/sys/bus/event_source/devices/uprobe'),
    tracepoint: existsSync('/sys/bus/event_source/devices/tracepoint'),
    ringBuffer: ringBufferProbe(),
    lockdown: lockdownMode(),
  };
  return cached;
}
