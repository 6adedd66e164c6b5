import { NotSupportedError } from '../errors';
import { ERRNO, errnoOf, kernelError, syscalls } from './bpf-syscall';

export interface TestRunOptions {
  /** The packet (XDP, tc, socket filter ...): at least an Ethernet header for XDP and tc. */
  dataIn?: Uint8Array;
  /** Runs in one call; durationNs is the mean per run. Default 1. */
  repeat?: number;
  /** A context struct (e.g. struct __sk_buff or xdp_md fields) for program types that take one. */
  ctxIn?: Uint8Array;
  /** Room for the output packet; default the input size + 4 KiB (programs may grow packets). */
  dataOutSize?: number;
}

export interface TestRunResult {
  retval: number;
  /** Mean run time in ns (the kernel's own clock, per repetition). */
  durationNs: number;
  dataOut: Uint8Array;
  ctxOut?: Uint8Array;
}

const OUT_SLACK = 4096;

interface Scratch {
  ptr: unknown;
  size: number;
}

const EINTR = 4;
const MAX_EINTR_RETRIES = 8;

/**
 * BPF_PROG_TEST_RUN (bpf_prog_test_run_opts): runs the program in the kernel on the given input,
 * synchronously. cgroup sock_addr, sock_ops and sk_msg programs cannot be test-run (ENOTSUPP): test them
 * with real sockets in a cgroup. A signal cuts a repeated run short (EINTR) and it is run again whole, so
 * what the program did to maps or event buffers may then count more than `repeat` runs.
 */

export function testRun(progFd: number, options: TestRunOptions = {}): TestRunResult {
  const s = syscalls();
  const k = s.koffi;
  const scratch: Scratch[] = [];
  const alloc = (size: number, fill?: Uint8Array): Scratch | undefined => {
    if (size === 0) return undefined;
    const buf = { ptr: k.alloc('uint8_t', size), size };
    scratch.push(buf);
    if (fill) new Uint8Array(k.view(buf.ptr, size)).set(fill);
    return buf;
  };
  try {
    const dataIn = options.dataIn ?? new Uint8Array(0);
    const inBuf = alloc(dataIn.length, dataIn);
    const outBuf = alloc(options.dataOutSize ?? dataIn.length + OUT_SLACK);
    const ctxIn = options.ctxIn;
    const ctxInBuf = ctxIn && alloc(ctxIn.length, ctxIn);
    const ctxOutBuf = ctxIn && alloc(ctxIn.length);
    const opts = {
      sz: k.sizeof(s.testRunOpts),
      data_in: inBuf?.ptr ?? null,
      data_out: outBuf?.ptr ?? null,
      data_size_in: dataIn.length,
      data_size_out: outBuf?.size ?? 0,
      ctx_in: ctxInBuf?.ptr ?? null,
      ctx_out: ctxOutBuf?.ptr ?? null,
      ctx_size_in: ctxIn?.length ?? 0,
      ctx_size_out: ctxOutBuf?.size ?? 0,
      retval: 0,
      repeat: options.repeat ?? 1,
      duration: 0,
      flags: 0,
      cpu: 0,
      batch_size: 0,
    };
    // A signal to this process aborts a repeated run with EINTR (the kernel checks between repetitions): run it again.
    let rc = s.progTestRunOpts(progFd, opts) as number;
    for (let retries = 0; rc !== 0 && errnoOf(rc) === EINTR && retries < MAX_EINTR_RETRIES; retries++) rc = s.progTestRunOpts(progFd, opts) as number;
    if (rc !== 0) throw testRunError(errnoOf(rc));
    const copy = (buf: Scratch | undefined, size: number): Uint8Array => (buf ? new Uint8Array(k.view(buf.ptr, Math.min(size, buf.size))).slice() : new Uint8Array(0));
    return {
      retval: opts.retval,
      durationNs: opts.duration,
      dataOut: copy(outBuf, opts.data_size_out),
      ...(ctxOutBuf ? { ctxOut: copy(ctxOutBuf, opts.ctx_size_out) } : {}),
    };
  } finally {
    for (const buf of scratch) k.free(buf.ptr);
  }
}

function testRunError(errno: number): Error {
  if (errno === ERRNO.ENOTSUPP || errno === ERRNO.EOPNOTSUPP) {
    return new NotSupportedError('test-running this program type (ENOTSUPP)', 'cgroup sock_addr, sock_ops and sk_msg programs cannot be test-run: attach them to a test cgroup and use real sockets');
  }
  if (errno === ERRNO.ENOSPC) return kernelError('test run', errno, 'the output did not fit: raise dataOutSize');
  if (errno === ERRNO.EINVAL) return kernelError('test run', errno, 'check the input: XDP and tc need at least a 14-byte Ethernet header, and ctxIn must match the program type');
  return kernelError('test run', errno);
}
