import { BpfError } from '../errors';
import { copyFromPointer, errnoOf, kernelError, syscalls } from './bpf-syscall';

export interface RingBufferOptions {
  /** How often the buffer is drained (ring_buffer__consume); a blocking poll would stall Node. Default 10 ms. */
  intervalMs?: number;
  /**
   * Records delivered per drain before yielding to the event loop (the next drain follows at once). libbpf
   * 1.1's consume otherwise runs as long as the producer keeps up. Default 32768 (≈ 10 ms of JS work).
   */
  budget?: number;
}

const DEFAULT_INTERVAL_MS = 10;
const DEFAULT_BUDGET = 32_768;
/** What the sample callback returns to make libbpf stop (after consuming that record). */
const STOP = -1;

/**
 * Reads a BPF_MAP_TYPE_RINGBUF map with libbpf's ring_buffer__new + ring_buffer__consume on a timer.
 * Records carry no type and the kernel counts no drops (a full buffer makes bpf_ringbuf_reserve/output
 * fail in the program): put a type tag and a sequence number in your records, or count failed reserves
 * in a map, to see losses. onRecord gets a copy of each record.
 */
export class RingBufferReader {
  private rb: unknown;
  private callback: unknown;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private failure: unknown;
  private delivered = 0;
  private readonly budget: number;
  /** Records and bytes delivered so far. */
  readonly stats = { records: 0, bytes: 0 };

  constructor(mapFd: number, onRecord: (bytes: Uint8Array) => void, options: RingBufferOptions = {}) {
    const s = syscalls();
    const k = s.koffi;
    this.budget = Math.max(1, options.budget ?? DEFAULT_BUDGET);
    const sample = (_ctx: unknown, data: unknown, size: number): number => {
      this.stats.records += 1;
      this.stats.bytes += size;
      this.delivered += 1;
      try {
        onRecord(copyFromPointer(data, size));
      } catch (err) {
        this.failure = err;
        return STOP;
      }
      return this.delivered >= this.budget ? STOP : 0;
    };
    this.callback = k.register(sample, k.pointer(s.ringSampleProto));
    this.rb = s.ringBufferNew(mapFd, this.callback, null, null);
    if (!this.rb) {
      const errno = errnoOf(null);
      this.close();
      throw kernelError(`opening ring buffer map fd ${mapFd}`, errno, 'pass the fd of a BPF_MAP_TYPE_RINGBUF map');
    }
    this.timer = setInterval(() => this.drain(), options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  private drain(): void {
    this.immediate = undefined;
    if (!this.rb) return;
    try {
      if (this.consume() >= this.budget && !this.immediate) this.immediate = setImmediate(() => this.drain());
    } catch (err) {
      this.close();
      process.emitWarning(`ring buffer reader stopped: ${(err as Error).message}`);
    }
  }

  /**
   * Delivers up to `budget` records waiting now; returns how many. Rethrows an error of onRecord (the
   * record that threw is consumed).
   */
  consume(): number {
    if (!this.rb) throw new BpfError('ring buffer reader is closed');
    this.delivered = 0;
    const rc = syscalls().ringBufferConsume(this.rb);
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
    if (rc < 0 && this.delivered < this.budget) throw kernelError('consuming the ring buffer', errnoOf(rc));
    return this.delivered;
  }

  /** Stops draining and frees libbpf's ring buffer (records still in it are not delivered). Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const s = syscalls();
    if (this.rb) s.ringBufferFree(this.rb);
    this.rb = undefined;
    if (this.callback) s.koffi.unregister(this.callback as Parameters<typeof s.koffi.unregister>[0]);
    this.callback = undefined;
  }
}
