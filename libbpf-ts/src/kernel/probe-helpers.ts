import { release } from 'node:os';
import { PermissionError } from '../errors';
import { closeFd, syscalls } from './bpf-syscall';
import { native } from './native';

/**
 * Which BPF helpers each program type may call on the running kernel, asked of the verifier itself.
 *
 * libbpf 1.1's libbpf_probe_bpf_helper() cannot be used for this on kernels newer than about 6.4:
 * it only recognises the verifier's old "unknown func" wording, while newer kernels reject a helper
 * the program type may not call with "program of this type cannot use helper", which libbpf 1.1
 * then reports as available. So this module loads the same probe program (call helper; exit) through
 * libbpf's bpf_prog_load() with a log and reads the verdict itself, accepting every wording.
 */

/** Verifier messages that mean "this program type may not call this helper" (old and new kernels). */
const UNAVAILABLE = ['invalid func ', 'unknown func ', 'program of this type cannot use helper '];

const BPF_CALL = 0x85;
const BPF_EXIT = 0x95;
const BPF_MOV64_IMM = 0xb7;
const INSN_SIZE = 8;
const LOG_SIZE = 4096;
const BTF_KIND_FUNC = 12;
const EPERM = 1;

/** Attach types (enum bpf_attach_type) the kernel demands at load for some program types. */
const ATTACH = { inet4Connect: 10, lircMode2: 16, getsockopt: 21, traceFentry: 24, lsmMac: 27, skLookup: 36 } as const;
const BPF_F_SLEEPABLE = 1 << 4;

/** A kernel function to attach BTF-based probes to, as libbpf's own probes would need one. */
const BTF_TARGETS: Record<string, { func: string; attachType: number }> = {
  tracing: { func: 'bpf_fentry_test1', attachType: ATTACH.traceFentry },
  lsm: { func: 'bpf_lsm_file_open', attachType: ATTACH.lsmMac },
};

interface LoadOptions {
  expected_attach_type: number;
  prog_flags: number;
  kern_version: number;
  attach_btf_id: number;
}

interface ProbeNative {
  progLoad(type: number, insns: Buffer, count: number, opts: LoadOptions, log: Buffer): number;
  close(fd: number): number;
  vmlinuxFuncId(name: string): number | undefined;
}

let bound: ProbeNative | undefined;

function probeNative(): ProbeNative {
  if (bound) return bound;
  const s = syscalls();
  const bpf = s.koffi.load('libbpf.so.1');
  const loadVmlinux = bpf.func('void *btf__load_vmlinux_btf(void)');
  const findByName = bpf.func('int btf__find_by_name_kind(const void *btf, const char *name, uint32_t kind)');
  const freeBtf = bpf.func('void btf__free(void *btf)');
  const size = s.koffi.sizeof(s.progLoadOpts);
  bound = {
    progLoad: (type, insns, count, o, log) => {
      log[0] = 0;
      return s.progLoad(type, null, 'GPL', insns, count, { sz: size, ...o, log_level: 1, log_size: log.length, log_buf: log }) as number;
    },
    close: (fd) => {
      closeFd(fd);
      return 0;
    },
    vmlinuxFuncId: (name) => {
      const btf = loadVmlinux();
      if (btf === null) return undefined;
      try {
        const id = findByName(btf, name, BTF_KIND_FUNC) as number;
        return id > 0 ? id : undefined;
      } finally {
        freeBtf(btf);
      }
    },
  };
  return bound;
}

let progTypes: Record<string, number> | undefined;

/** libbpf's program type names ('xdp', 'sched_cls', 'cgroup_sock_addr', ...) to enum bpf_prog_type numbers. */
export function progTypeNumbers(): Record<string, number> {
  if (progTypes) return progTypes;
  const n = native();
  const table: Record<string, number> = {};
  for (let type = 0; ; type++) {
    const name = n.progTypeStr(type);
    if (name === null) break;
    table[name] = type;
  }
  progTypes = table;
  return table;
}

/** KERNEL_VERSION(a, b, c) of the running kernel, which old kernels check for kprobe programs. */
function kernelVersionCode(): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(release());
  return m ? (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3]), 255) : 0;
}

/** Load options for a program type, or undefined when it cannot be probed here (ext, struct_ops, unspec). */
function loadOptions(name: string, p: ProbeNative): LoadOptions | undefined {
  const o: LoadOptions = { expected_attach_type: 0, prog_flags: 0, kern_version: 0, attach_btf_id: 0 };
  switch (name) {
    case 'unspec':
    case 'ext':
    case 'struct_ops':
      return undefined;
    case 'cgroup_sock_addr':
      return { ...o, expected_attach_type: ATTACH.inet4Connect };
    case 'cgroup_sockopt':
      return { ...o, expected_attach_type: ATTACH.getsockopt };
    case 'sk_lookup':
      return { ...o, expected_attach_type: ATTACH.skLookup };
    case 'lirc_mode2':
      return { ...o, expected_attach_type: ATTACH.lircMode2 };
    case 'kprobe':
      return { ...o, kern_version: kernelVersionCode() };
    case 'syscall':
      return { ...o, prog_flags: BPF_F_SLEEPABLE };
    case 'tracing':
    case 'lsm': {
      const target = BTF_TARGETS[name]!;
      const id = p.vmlinuxFuncId(target.func);
      return id === undefined ? undefined : { ...o, expected_attach_type: target.attachType, attach_btf_id: id };
    }
    default:
      return o;
  }
}

function insns(first: number, imm: number): Buffer {
  const buf = Buffer.alloc(2 * INSN_SIZE);
  buf[0] = first;
  buf.writeInt32LE(imm, 4);
  buf[INSN_SIZE] = BPF_EXIT;
  return buf;
}

function logText(log: Buffer): string {
  const end = log.indexOf(0);
  return log.toString('utf8', 0, end < 0 ? log.length : end);
}

/**
 * For each program type (libbpf names), the helper ids (enum bpf_func_id) among `helperIds` that the
 * running kernel lets it call. Left out of the result: program types this kernel or libbpf does not
 * know, those that cannot be probed without a real attach target (ext, struct_ops), and those this
 * process may not load (tracing and lsm under kernel lockdown, for one). Throws PermissionError when
 * no requested type could be loaded for lack of privilege. Synchronous: run it off the UI thread.
 */
export function probeHelpers(progTypes: string[], helperIds: number[]): Record<string, number[]> {
  const p = probeNative();
  const numbers = progTypeNumbers();
  const log = Buffer.alloc(LOG_SIZE);
  const result: Record<string, number[]> = {};
  let denied = false;
  for (const name of progTypes) {
    const type = numbers[name];
    if (type === undefined) continue;
    const opts = loadOptions(name, p);
    if (opts === undefined) continue;
    const trivial = p.progLoad(type, insns(BPF_MOV64_IMM, 0), 2, opts, log);
    if (trivial < 0) {
      denied ||= -trivial === EPERM;
      continue;
    }
    p.close(trivial);
    const available: number[] = [];
    for (const id of helperIds) {
      const fd = p.progLoad(type, insns(BPF_CALL, id), 2, opts, log);
      if (fd >= 0) p.close(fd);
      const text = fd >= 0 ? '' : logText(log);
      if (!UNAVAILABLE.some((message) => text.includes(message))) available.push(id);
    }
    result[name] = available;
  }
  if (denied && Object.keys(result).length === 0) {
    throw new PermissionError('probing BPF helpers: the kernel refused to load programs (EPERM)', 'run as root, or grant CAP_BPF (+CAP_PERFMON for tracing types)', EPERM);
  }
  return result;
}
