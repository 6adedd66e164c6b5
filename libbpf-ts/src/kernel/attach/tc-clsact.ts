import { existsSync } from 'node:fs';
import { BpfError } from '../../errors';
import { ERRNO, errnoOf, kernelError, syscalls } from '../bpf-syscall';
import { interfaceTarget, type Attachment, type AttachRecord, type ProgramRef } from './attachment';
import { captureLibbpfMessages } from '../libbpf-messages';
import { inNetns } from './netns';
import type { Direction } from './tcx';

const BPF_TC = { ingress: 1, egress: 2 } as const;
/** Away from priority 1 / handle 1, which other tools (cilium, tc's defaults) take. */
const DEFAULT_PRIORITY = 0x4eb5;
const DEFAULT_HANDLE = 0x4eb5;

export interface TcClsactOptions {
  /** Filter priority, 2–65535 (default 0x4eb5). */
  priority?: number;
  /** Filter handle, 2–0xffffffff (default 0x4eb5). */
  handle?: number;
  /** The network namespace the ifindex belongs to (/run/netns/NAME). */
  netns?: string;
}

type TcRecord = Extract<AttachRecord, { type: 'tc' }>;

function checkId(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 2 || value > max) {
    throw new BpfError(`tc ${what} ${value} is not allowed`, `choose a ${what} between 2 and ${max} (1 is left to other tools)`);
  }
}

function hookOf(ifindex: number, direction: Direction): Record<string, number> {
  const s = syscalls();
  return { sz: s.koffi.sizeof(s.tcHook), ifindex, attach_point: BPF_TC[direction], parent: 0 };
}

/**
 * The pre-tcx way: a direct-action cls_bpf filter on a clsact qdisc (created when missing), through
 * libbpf's bpf_tc_hook_create/bpf_tc_attach. This is NOT a bpf_link: it stays when the process dies, so
 * keep the returned `record` in a journal and undo it with detachRecord(). Detaching removes our filter;
 * the clsact qdisc stays (it may be shared, and an empty one does nothing).
 */
export function attachTcClsact(prog: ProgramRef, ifindex: number, direction: Direction, options: TcClsactOptions = {}): Attachment {
  const priority = options.priority ?? DEFAULT_PRIORITY;
  const handle = options.handle ?? DEFAULT_HANDLE;
  checkId('priority', priority, 0xffff);
  checkId('handle', handle, 0xffffffff);
  const target = `${interfaceTarget(ifindex, options.netns)} clsact/${direction} prio ${priority} handle 0x${handle.toString(16)}`;
  const s = syscalls();
  inNetns(options.netns, () => {
    const hook = hookOf(ifindex, direction);
    const created = s.tcHookCreate(hook) as number;
    if (created !== 0 && errnoOf(created) !== ERRNO.EEXIST) {
      throw kernelError(`creating the clsact qdisc on ${interfaceTarget(ifindex, options.netns)}`, errnoOf(created));
    }
    const opts = { sz: s.koffi.sizeof(s.tcOpts), prog_fd: prog.fd, flags: 0, prog_id: 0, handle, priority };
    const { result: rc, messages } = captureLibbpfMessages(() => s.tcAttach(hook, opts) as number);
    if (rc !== 0) {
      const errno = errnoOf(rc);
      const detail = messages.map((m) => m.text).join('; ');
      throw kernelError(`attaching tc program '${prog.name}' to ${target}${detail ? ` (${detail})` : ''}`, errno, errno === ERRNO.EEXIST ? 'a filter already sits at this priority and handle: choose others or detach it' : undefined);
    }
  });
  const record: TcRecord = { type: 'tc', ifindex, direction, priority, handle, ...(options.netns ? { netns: options.netns } : {}) };
  let attached = true;
  return {
    kind: 'tc',
    target,
    record,
    detach() {
      if (attached) detachTcFilter(record);
      attached = false;
    },
  };
}

/** Removes the filter a record names; quiet when it, its interface or its namespace is gone. */
export function detachTcFilter(record: TcRecord): void {
  if (record.netns && !existsSync(record.netns)) return;
  const s = syscalls();
  inNetns(record.netns, () => {
    const opts = { sz: s.koffi.sizeof(s.tcOpts), prog_fd: 0, flags: 0, prog_id: 0, handle: record.handle, priority: record.priority };
    // libbpf prints the kernel's netlink complaint for a filter that is already gone: keep it quiet.
    const { result: rc } = captureLibbpfMessages(() => s.tcDetach(hookOf(record.ifindex, record.direction), opts) as number);
    const errno = rc === 0 ? 0 : errnoOf(rc);
    if (errno !== 0 && errno !== ERRNO.ENOENT && errno !== ERRNO.ENODEV && errno !== ERRNO.EINVAL) {
      throw kernelError(`detaching the tc filter on ${interfaceTarget(record.ifindex, record.netns)}`, errno);
    }
  });
}
