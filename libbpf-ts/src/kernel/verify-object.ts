import { performance } from 'node:perf_hooks';
import { BpfError } from '../errors';
import { effectiveCapabilities } from './capabilities';
import { captureLibbpfMessages, type LibbpfMessage } from './libbpf-messages';
import { lockdownMode } from './features';
import { loadEpermReason, noBpfCapability } from './load-permission';
import { native } from './native';
import { OpenedObject, type OpenedProgram } from './opened-object';

/** Bytes to write into an internal data map (`.rodata` for `const volatile` settings) before loading. */
export interface InitialValuePatch {
  section: string;
  offset: number;
  bytes: Uint8Array;
  variable: string;
}

export interface VerifyObjectOptions {
  objectName?: string;
  /** Size of the log buffer for a rejected program; the kernel keeps the log's tail when it overflows. */
  logSize?: number;
  /** Verifier log level for rejected programs: 1 (the failing path) or 2 (every state). */
  logLevel?: 1 | 2;
  /** Verify only these programs (by function name). */
  programs?: readonly string[];
  patches?: readonly InitialValuePatch[];
}

export type Verdict = 'accepted' | 'rejected' | 'not-loaded';

export interface ProgramVerdict {
  name: string;
  section: string;
  progType: string;
  verdict: Verdict;
  /** Why a program was rejected by libbpf rather than the kernel, or was not loaded. */
  reason?: string;
  errno?: number;
  insnsProcessed?: number;
  verifyUs?: number;
  /** Wall time of the load that judged this program (includes map creation and BTF load). */
  loadMs: number;
  log?: string;
  logTruncated?: boolean;
  libbpf: LibbpfMessage[];
}

export interface ObjectVerdict {
  programs: ProgramVerdict[];
  /** libbpf refused to open the object (bad ELF, unresolved extern ...): no program was tried. */
  openError?: string;
  /** libbpf messages not tied to one program (object-level failures). */
  libbpf: LibbpfMessage[];
  libbpfVersion: string;
}

const STATS_LOG_SIZE = 16 * 1024;
const DEFAULT_LOG_SIZE = 16 * 1024 * 1024;
const LOG_LEVEL_STATS = 4;
const LOG_FULL_SLACK = 1024;
const ENOSPC = 28;
const EPERM = 1;

interface LogBuffer {
  ptr: unknown;
  size: number;
}

function allocLog(size: number): LogBuffer {
  const k = native().koffi;
  const ptr = k.alloc('uint8_t', size);
  new Uint8Array(k.view(ptr, 1))[0] = 0;
  return { ptr, size };
}

function readLog(buf: LogBuffer): { text: string; full: boolean } {
  const bytes = new Uint8Array(native().koffi.view(buf.ptr, buf.size));
  let end = bytes.indexOf(0);
  if (end < 0) end = buf.size;
  // The kernel's rotating log keeps the tail and stops a few bytes short of the buffer's end.
  return { text: Buffer.from(bytes.subarray(0, end)).toString('utf8'), full: end >= buf.size - LOG_FULL_SLACK };
}

function freeLog(buf: LogBuffer): void {
  native().koffi.free(buf.ptr);
}

function statsFrom(text: string): { insnsProcessed?: number; verifyUs?: number } {
  const processed = /processed (\d+) insns/.exec(text);
  const time = /verification time (\d+) usec/.exec(text);
  return {
    ...(processed ? { insnsProcessed: Number(processed[1]) } : {}),
    ...(time ? { verifyUs: Number(time[1]) } : {}),
  };
}

/** The program libbpf names in "prog 'X': ... failed" messages, if any. */
function failingProgram(messages: readonly LibbpfMessage[]): string | undefined {
  for (const m of messages) {
    const match = /^prog '([^']+)': (?:BPF program load failed|failed to load|relo #\d+:.*fail|.*failed)/.exec(m.text);
    if (match) return match[1];
  }
  return undefined;
}

interface Attempt {
  rc: number;
  ms: number;
  logs: Map<string, { text: string; full: boolean }>;
  messages: LibbpfMessage[];
  order: string[];
}

function attempt(bytes: Uint8Array, options: VerifyObjectOptions, load: readonly string[], level: number, logSize: number): Attempt {
  const object = OpenedObject.open(bytes, options.objectName ?? 'ebpf-studio');
  const buffers = new Map<string, LogBuffer>();
  try {
    object.clearPinPaths();
    for (const patch of options.patches ?? []) {
      if (!object.patchInitialValue(patch.section, patch.offset, patch.bytes)) {
        throw new BpfError(`cannot set ${patch.variable}: no ${patch.section} data in the object`);
      }
    }
    const n = native();
    for (const p of object.programs) {
      const on = load.includes(p.name);
      n.programSetAutoload(p.handle, on);
      if (!on) continue;
      const buf = allocLog(level === LOG_LEVEL_STATS ? STATS_LOG_SIZE : logSize);
      buffers.set(p.name, buf);
      n.programSetLogBuf(p.handle, buf.ptr, buf.size);
      n.programSetLogLevel(p.handle, level);
    }
    const start = performance.now();
    const { result: rc, messages } = captureLibbpfMessages(() => object.load());
    const ms = performance.now() - start;
    const logs = new Map<string, { text: string; full: boolean }>();
    for (const [name, buf] of buffers) logs.set(name, readLog(buf));
    return { rc, ms, logs, messages, order: object.programs.map((p) => p.name) };
  } finally {
    object.close();
    for (const buf of buffers.values()) freeLog(buf);
  }
}

function describeErrno(errno: number): string {
  return native().strerror(errno);
}

/** Messages that belong to one program ("prog 'X': ..."). */
function messagesOf(name: string, messages: readonly LibbpfMessage[]): LibbpfMessage[] {
  return messages.filter((m) => m.text.startsWith(`prog '${name}':`));
}


/**
 * Judge every program of an object with the kernel verifier, one verdict each. Loads all programs together
 * with a stats-only log; when libbpf stops at a rejected program, that one is reloaded alone with a full
 * log (its tail kept) and the rest are tried again. Nothing is pinned and every kernel object is freed.
 */
export function verifyObject(bytes: Uint8Array, options: VerifyObjectOptions = {}): ObjectVerdict {
  const { result: opened, messages: openMessages } = captureLibbpfMessages(() => {
    try {
      return OpenedObject.open(bytes, options.objectName ?? 'ebpf-studio');
    } catch (err) {
      if (err instanceof BpfError) return err;
      throw err;
    }
  });
  if (opened instanceof BpfError) {
    return { programs: [], openError: opened.message, libbpf: openMessages, libbpfVersion: native().libbpfVersion };
  }
  const programs: OpenedProgram[] = opened.programs.filter((p) => !options.programs || options.programs.includes(p.name));
  opened.close();
  const byName = new Map(programs.map((p) => [p.name, p]));
  const verdicts = new Map<string, ProgramVerdict>();
  const objectMessages: LibbpfMessage[] = [];
  const logSize = options.logSize ?? DEFAULT_LOG_SIZE;
  const level = options.logLevel === 2 ? 2 | LOG_LEVEL_STATS : 1 | LOG_LEVEL_STATS;
  let remaining = programs.map((p) => p.name);

  const verdictOf = (name: string, fields: Omit<ProgramVerdict, 'name' | 'section' | 'progType'>): ProgramVerdict => {
    const p = byName.get(name)!;
    return { name, section: p.section, progType: p.progType, ...fields };
  };

  while (remaining.length > 0) {
    const tried = attempt(bytes, options, remaining, LOG_LEVEL_STATS, logSize);
    if (tried.rc === 0) {
      for (const name of remaining) {
        verdicts.set(name, verdictOf(name, { verdict: 'accepted', loadMs: tried.ms, ...statsFrom(tried.logs.get(name)?.text ?? ''), libbpf: messagesOf(name, tried.messages) }));
      }
      break;
    }
    const errno = -tried.rc;
    const failing = failingProgram(tried.messages);
    if (failing === undefined || !remaining.includes(failing)) {
      const noBpf = errno === EPERM ? noBpfCapability(effectiveCapabilities()) : undefined;
      if (noBpf) throw noBpf;
      objectMessages.push(...tried.messages);
      const reason = tried.messages.filter((m) => m.level === 'warn').map((m) => m.text).join('; ') || describeErrno(errno);
      for (const name of remaining) verdicts.set(name, verdictOf(name, { verdict: 'not-loaded', reason, errno, loadMs: tried.ms, libbpf: [] }));
      break;
    }
    const order = tried.order.filter((name) => remaining.includes(name));
    const failingIndex = order.indexOf(failing);
    for (const name of order.slice(0, failingIndex)) {
      verdicts.set(name, verdictOf(name, { verdict: 'accepted', loadMs: tried.ms, ...statsFrom(tried.logs.get(name)?.text ?? ''), libbpf: messagesOf(name, tried.messages) }));
    }
    const alone = attempt(bytes, options, [failing], level, logSize);
    const log = alone.logs.get(failing) ?? { text: '', full: false };
    const ownMessages = messagesOf(failing, alone.messages);
    const byKernel = ownMessages.some((m) => /BPF program load failed/.test(m.text));
    if (alone.rc === 0) {
      verdicts.set(failing, verdictOf(failing, { verdict: 'accepted', loadMs: alone.ms, ...statsFrom(log.text), libbpf: ownMessages }));
    } else {
      const failErrno = -alone.rc;
      const refusedUnverified = byKernel && failErrno === EPERM && log.text.trim() === '';
      const held = refusedUnverified ? effectiveCapabilities() : undefined;
      const noBpf = held && noBpfCapability(held);
      if (noBpf) throw noBpf;
      verdicts.set(failing, verdictOf(failing, {
        verdict: 'rejected',
        errno: failErrno,
        loadMs: alone.ms,
        ...statsFrom(log.text),
        ...(held
          ? { reason: loadEpermReason(byName.get(failing)!.progType, held, lockdownMode()) }
          : byKernel
            ? { log: log.text, logTruncated: log.full || failErrno === ENOSPC }
            : { reason: ownMessages.map((m) => m.text).join('; ') || describeErrno(failErrno) }),
        libbpf: ownMessages,
      }));
    }
    remaining = order.slice(failingIndex + 1);
  }
  return {
    programs: programs.map((p) => verdicts.get(p.name) ?? verdictOf(p.name, { verdict: 'not-loaded', reason: 'not attempted', loadMs: 0, libbpf: [] })),
    libbpf: objectMessages,
    libbpfVersion: native().libbpfVersion,
  };
}
