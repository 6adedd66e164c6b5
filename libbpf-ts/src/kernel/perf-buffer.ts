import { BpfError } from '../errors';
import { copyFromPointer, errnoOf, kernelError, syscalls } from './bpf-syscall';

export interface PerfBufferOptions {
  /** Drain interval (perf_buffer__consume). Default 10 ms. */
  intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 10;

/**
 * Reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (bpf_perf_event_output) with libbpf's perf_buffer__new +
 * perf_buffer__consume on a timer. Unlike ring buffers, the kernel counts samples it had to drop: they
 * arrive through onLost(count, cpu).
 */
export class PerfBufferReader {
  private pb: unknown;
  private callbacks: unknown[] = [];
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;
  readonly stats = { samples: 0, bytes: 0, lost: 0 };

  /** `pageCnt`: pages per CPU buffer, a power of two. */
  constructor(
    mapFd: number,
    pageCnt: number,
    onSample: (bytes: Uint8Array, cpu: number) => void,
    onLost: (count: number, cpu: number) => void = () => undefined,
    options: PerfBufferOptions = {},
  ) {
    if (!Number.isInteger(pageCnt) || pageCnt < 1 || (pageCnt & (pageCnt - 1)) !== 0) {
      throw new BpfError(`perf buffer page count ${pageCnt} is not a power of two`, 'pass 1, 2, 4, 8, ... pages per CPU');
    }
    const s = syscalls();
    const k = s.koffi;
    const guard = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.failure ??= err;
      }
    };
    const sample = (_ctx: unknown, cpu: number, data: unknown, size: number): void => guard(() => {
      this.stats.samples += 1;
      this.stats.bytes += size;
      onSample(copyFromPointer(data, size), cpu);
    });
    const lost = (_ctx: unknown, cpu: number, count: number | bigint): void => guard(() => {
      this.stats.lost += Number(count);
      onLost(Number(count), cpu);
    });
    const sampleCb = k.register(sample, k.pointer(s.perfSampleProto));
    const lostCb = k.register(lost, k.pointer(s.perfLostProto));
    this.callbacks = [sampleCb, lostCb];
    this.pb = s.perfBufferNew(mapFd, pageCnt, sampleCb, lostCb, null, null);
    if (!this.pb) {
      const errno = errnoOf(null);
      this.close();
      throw kernelError(`opening perf buffer map fd ${mapFd}`, errno, 'pass the fd of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map');
    }
    this.timer = setInterval(() => {
      try {
        this.consume();
      } catch (err) {
        this.close();
        process.emitWarning(`perf buffer reader stopped: ${(err as Error).message}`);
      }
    }, options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  /** Drains every CPU's buffer now. Rethrows an error of onSample/onLost. */
  consume(): void {
    if (!this.pb) throw new BpfError('perf buffer reader is closed');
    const rc = syscalls().perfBufferConsume(this.pb);
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
    if (rc < 0) throw kernelError('consuming the perf buffer', errnoOf(rc));
  }

  /** Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const s = syscalls();
    if (this.pb) s.perfBufferFree(this.pb);
    this.pb = undefined;
    for (const cb of this.callbacks) s.koffi.unregister(cb as Parameters<typeof s.koffi.unregister>[0]);
    this.callbacks = [];
  }
}
