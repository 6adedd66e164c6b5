import { errnoOf, kernelError, closeFd, syscalls } from './bpf-syscall';

/**
 * Program run statistics. The kernel counts run_cnt/run_time_ns only while BPF_ENABLE_STATS is held by
 * someone (or the sysctl kernel.bpf_stats_enabled is 1) — and then for EVERY program on the machine,
 * costing each run two clock reads (≈ 20–40 ns). Hold the handle only while you measure.
 */

/** struct bpf_prog_info of the 6.1 uapi header: the fields we read and their offsets. */
const PROG_INFO = { size: 232, type: 0, id: 4, name: 64, runTimeNs: 192, runCnt: 200, recursionMisses: 208, verifiedInsns: 216 } as const;
const BPF_STATS_RUN_TIME = 0;

export interface ProgramInfo {
  id: number;
  /** BPF_PROG_TYPE_* number. */
  type: number;
  name: string;
  runCnt: bigint;
  runTimeNs: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
}

/** bpf_obj_get_info_by_fd on a program fd. */
export function programInfo(fd: number): ProgramInfo {
  const s = syscalls();
  const buf = new Uint8Array(PROG_INFO.size);
  const len = [PROG_INFO.size];
  const rc = s.objGetInfoByFd(fd, buf, len);
  if (rc !== 0) throw kernelError(`reading the info of program fd ${fd}`, errnoOf(rc));
  const view = new DataView(buf.buffer);
  const nameBytes = buf.subarray(PROG_INFO.name, PROG_INFO.name + 16);
  const end = nameBytes.indexOf(0);
  return {
    id: view.getUint32(PROG_INFO.id, true),
    type: view.getUint32(PROG_INFO.type, true),
    name: Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('latin1'),
    runCnt: view.getBigUint64(PROG_INFO.runCnt, true),
    runTimeNs: view.getBigUint64(PROG_INFO.runTimeNs, true),
    recursionMisses: view.getBigUint64(PROG_INFO.recursionMisses, true),
    verifiedInsns: view.getUint32(PROG_INFO.verifiedInsns, true),
  };
}

export interface ProgramStats {
  runCnt: bigint;
  runTimeNs: bigint;
  recursionMisses: bigint;
  /** Mean ns per run, 0 before the first counted run. */
  avgNs: number;
}

/** Run count and run time of a program (zero unless stats are enabled, see enableStats()). */
export function programStats(fd: number): ProgramStats {
  const info = programInfo(fd);
  return {
    runCnt: info.runCnt,
    runTimeNs: info.runTimeNs,
    recursionMisses: info.recursionMisses,
    avgNs: info.runCnt === 0n ? 0 : Number(info.runTimeNs) / Number(info.runCnt),
  };
}

/** Holds BPF_ENABLE_STATS; counting stops when every holder closed (or its process died). */
export interface StatsHandle {
  readonly fd: number;
  close(): void;
}

/**
 * Turns on run-time statistics for ALL programs of the kernel (not only ours) until close(); several
 * holders may exist at once. Needs CAP_SYS_ADMIN.
 */
export function enableStats(): StatsHandle {
  const fd = syscalls().enableStats(BPF_STATS_RUN_TIME);
  if (fd < 0) throw kernelError('enabling BPF run-time stats', errnoOf(fd), 'BPF_ENABLE_STATS needs CAP_SYS_ADMIN (or set sysctl kernel.bpf_stats_enabled=1)');
  let open = true;
  return {
    fd,
    close() {
      if (open) closeFd(fd);
      open = false;
    },
  };
}
