import { rmSync } from 'node:fs';
import { ERRNO, closeFd, errnoOf, kernelError, syscalls } from '../bpf-syscall';

export type AttachKind = 'xdp' | 'tcx' | 'tc' | 'cgroup' | 'sk_msg' | 'kprobe' | 'tracepoint' | 'raw_tracepoint';

/**
 * What undoing an attachment needs, as plain JSON for a journal: another process (or this one after a
 * restart) can pass it to detachRecord().
 */
export type AttachRecord =
  | { type: 'link'; linkId: number; pinPath?: string }
  | { type: 'tc'; ifindex: number; direction: 'ingress' | 'egress'; priority: number; handle: number; netns?: string }
  | { type: 'sk_msg'; progId: number; mapId: number; attachType: number };

export interface Attachment {
  readonly kind: AttachKind;
  /** What it is attached to, for people: `ifindex 4 in /run/netns/x (generic)`, `cgroup /sys/fs/... connect4`. */
  readonly target: string;
  /** The bpf_link's id (`bpftool link show id N`); absent for tc filters and bpf_prog_attach fallbacks. */
  readonly linkId?: number;
  readonly record: AttachRecord;
  /** Set when the attachment took a fallback path, saying which and why. */
  readonly note?: string;
  /** Detaches (and removes the pin made by pin()). Idempotent. */
  detach(): void;
  /** Pins the link on bpffs so it outlives this process (links only). */
  pin?(path: string): void;
}

const LINK_INFO_SIZE = 48;
const LINK_INFO_ID = 4;

/** The id of a bpf_link fd (struct bpf_link_info.id), undefined when the fd is not a link. */
export function linkIdOf(fd: number): number | undefined {
  const info = new Uint8Array(LINK_INFO_SIZE);
  const rc = syscalls().objGetInfoByFd(fd, info, [LINK_INFO_SIZE]);
  return rc === 0 ? new DataView(info.buffer).getUint32(LINK_INFO_ID, true) : undefined;
}

/** Links without a detach operation (perf events, tracing) go away when their last fd closes; ENOLINK: already detached (e.g. from its journal record by another process). */
const ALREADY_GONE: ReadonlySet<number> = new Set([ERRNO.EOPNOTSUPP, ERRNO.EINVAL, ERRNO.ENOTSUPP, ERRNO.ENOLINK]);

export function detachLinkFd(fd: number): void {
  const rc = syscalls().linkDetach(fd);
  const errno = rc === 0 ? 0 : errnoOf(rc);
  if (errno !== 0 && !ALREADY_GONE.has(errno)) {
    throw kernelError('detaching a BPF link', errno);
  }
}

function pinFd(fd: number, path: string): void {
  const rc = syscalls().objPin(fd, path);
  if (rc !== 0) {
    const errno = errnoOf(rc);
    throw kernelError(`pinning at ${path}`, errno, errno === ERRNO.EEXIST ? 'the path is taken: remove the old pin or choose another name' : 'the path must be inside a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)');
  }
}

/** An attachment owning a bpf_link fd; closing the fd (or the process dying) detaches unless pinned. */
export function linkAttachment(kind: AttachKind, target: string, fd: number): Attachment {
  const linkId = linkIdOf(fd);
  let pinPath: string | undefined;
  let open = true;
  const record = (): AttachRecord => ({ type: 'link', linkId: linkId ?? 0, ...(pinPath ? { pinPath } : {}) });
  return {
    kind,
    target,
    ...(linkId === undefined ? {} : { linkId }),
    get record() {
      return record();
    },
    detach() {
      if (!open) return;
      open = false;
      try {
        detachLinkFd(fd);
      } finally {
        closeFd(fd);
        if (pinPath) rmSync(pinPath, { force: true });
      }
    },
    pin(path: string) {
      pinFd(fd, path);
      pinPath = path;
    },
  };
}

/** An attachment owning a libbpf struct bpf_link (kprobes, tracepoints): bpf_link__destroy frees it all. */
export function libbpfLinkAttachment(kind: AttachKind, target: string, link: unknown): Attachment {
  const s = syscalls();
  const fd = s.linkFd(link);
  const linkId = linkIdOf(fd);
  let pinPath: string | undefined;
  let open = true;
  return {
    kind,
    target,
    ...(linkId === undefined ? {} : { linkId }),
    get record(): AttachRecord {
      return { type: 'link', linkId: linkId ?? 0, ...(pinPath ? { pinPath } : {}) };
    },
    detach() {
      if (!open) return;
      open = false;
      if (pinPath) rmSync(pinPath, { force: true });
      s.linkDestroy(link);
    },
    pin(path: string) {
      pinFd(fd, path);
      pinPath = path;
    },
  };
}

/** The program to attach: a LoadedProgram, or any loaded program's fd with a name for messages. */
export interface ProgramRef {
  fd: number;
  name: string;
}

/** bpf_link_create with libbpf 1.1's opts (only `flags` is used here); returns the link fd or a negative errno. */
export function linkCreate(prog: ProgramRef, targetFd: number, attachType: number, flags = 0): number {
  const s = syscalls();
  const opts = {
    sz: s.koffi.sizeof(s.linkCreateOpts),
    flags,
    iter_info: null,
    iter_info_len: 0,
    target_btf_id: 0,
    kprobe_multi_flags: 0,
    kprobe_multi_cnt: 0,
    kprobe_multi_syms: null,
    kprobe_multi_addrs: null,
    kprobe_multi_cookies: null,
  };
  return s.linkCreate(prog.fd, targetFd, attachType, opts) as number;
}

/** `ifindex 4` or `ifindex 4 in /run/netns/x`. */
export function interfaceTarget(ifindex: number, netns: string | undefined): string {
  return netns ? `ifindex ${ifindex} in ${netns}` : `ifindex ${ifindex}`;
}
