import { existsSync } from 'node:fs';
import { NotSupportedError } from '../../errors';
import { ERRNO, errnoOf, kernelError, syscalls } from '../bpf-syscall';
import { lockdownMode } from '../features';
import { libbpfLinkAttachment, type Attachment } from './attachment';
import { captureLibbpfMessages, type LibbpfMessage } from '../libbpf-messages';
import { TRACEFS, ensureTracefs } from './trace-pipe';

/** A program loaded by LoadedObject: libbpf's attach APIs need its struct bpf_program. */
export interface LibbpfProgramRef {
  name: string;
  readonly handle: unknown;
}

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';

/** Whether this kernel can create kprobes at all (the kprobe PMU, or legacy kprobe_events in tracefs). */
export function kprobesAvailable(): boolean {
  return existsSync(KPROBE_PMU) || existsSync(`${TRACEFS}/kprobe_events`);
}

function libbpfDetail(messages: readonly LibbpfMessage[]): string {
  const warnings = messages.filter((m) => m.level === 'warn').map((m) => m.text);
  return warnings.length > 0 ? ` (${warnings.join('; ')})` : '';
}

const KPROBE_FALLBACK = 'attach to a tracepoint instead (attachTracepoint / attachRawTracepoint), or use fentry/fexit';

/** Attaches a kprobe/kretprobe program to a kernel function through libbpf (a perf-event bpf_link). */
export function attachKprobe(prog: LibbpfProgramRef, symbol: string, options: { retprobe?: boolean } = {}): Attachment {
  const kind = options.retprobe ? 'kretprobe' : 'kprobe';
  const lockdown = lockdownMode();
  if (lockdown === 'confidentiality') {
    throw new NotSupportedError(`${kind}s under kernel lockdown (confidentiality mode)`, `${KPROBE_FALLBACK}; lockdown=confidentiality forbids kprobes and reading kernel memory`);
  }
  if (!kprobesAvailable()) {
    throw new NotSupportedError(`${kind}s (this kernel is built without CONFIG_KPROBES: no kprobe PMU, no kprobe_events)`, KPROBE_FALLBACK);
  }
  const { result: link, messages } = captureLibbpfMessages(() => syscalls().programAttachKprobe(prog.handle, options.retprobe ?? false, symbol));
  if (!link) {
    const errno = errnoOf(null);
    const what = `attaching ${kind} '${prog.name}' to ${symbol}${libbpfDetail(messages)}`;
    if (errno === ERRNO.ENOENT || errno === ERRNO.EINVAL) {
      throw kernelError(what, errno, `no probeable kernel function '${symbol}': check /proc/kallsyms (inlined and notrace functions cannot be probed)`);
    }
    throw kernelError(what, errno, errno === ERRNO.EPERM ? `needs CAP_PERFMON + CAP_BPF (or root); kernel lockdown (${lockdown}) may forbid it` : undefined);
  }
  return libbpfLinkAttachment('kprobe', `${kind} ${symbol}`, link);
}

/** Attaches a tracepoint program (SEC("tp/CATEGORY/NAME")) through libbpf; mounts tracefs when needed. */
export function attachTracepoint(prog: LibbpfProgramRef, category: string, name: string): Attachment {
  ensureTracefs();
  const { result: link, messages } = captureLibbpfMessages(() => syscalls().programAttachTracepoint(prog.handle, category, name));
  if (!link) {
    const errno = errnoOf(null);
    throw kernelError(`attaching tracepoint program '${prog.name}' to ${category}/${name}${libbpfDetail(messages)}`, errno, errno === ERRNO.ENOENT ? `no tracepoint ${category}/${name}: see ${TRACEFS}/events/` : undefined);
  }
  return libbpfLinkAttachment('tracepoint', `tracepoint ${category}/${name}`, link);
}

/** Attaches a raw tracepoint program (SEC("raw_tp/NAME")): no tracefs needed. */
export function attachRawTracepoint(prog: LibbpfProgramRef, name: string): Attachment {
  const { result: link, messages } = captureLibbpfMessages(() => syscalls().programAttachRawTracepoint(prog.handle, name));
  if (!link) {
    const errno = errnoOf(null);
    throw kernelError(`attaching raw tracepoint program '${prog.name}' to ${name}${libbpfDetail(messages)}`, errno, errno === ERRNO.ENOENT ? `no raw tracepoint ${name}` : undefined);
  }
  return libbpfLinkAttachment('raw_tracepoint', `raw_tracepoint ${name}`, link);
}
