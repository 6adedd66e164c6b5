import { NotSupportedError } from '../errors';

type Koffi = typeof import('koffi', { with: { 'resolution-mode': 'import' } });

/** The libbpf.so.1 and libc functions libbpf-ts calls, bound lazily on first use. */
export interface Native {
  koffi: Koffi;
  libbpfVersion: string;
  objectOpenMem(buf: Uint8Array, size: number, opts: unknown): unknown;
  objectLoad(obj: unknown): number;
  objectClose(obj: unknown): void;
  objectNextProgram(obj: unknown, prev: unknown): unknown;
  objectNextMap(obj: unknown, prev: unknown): unknown;
  programName(prog: unknown): string;
  programSectionName(prog: unknown): string;
  programSetAutoload(prog: unknown, on: boolean): number;
  programSetLogBuf(prog: unknown, buf: unknown, size: number): number;
  programSetLogLevel(prog: unknown, level: number): number;
  programType(prog: unknown): number;
  programFd(prog: unknown): number;
  programInsnCount(prog: unknown): number;
  progTypeStr(type: number): string | null;
  mapName(map: unknown): string;
  mapSetPinPath(map: unknown, path: string | null): number;
  mapInitialValue(map: unknown, size: number[]): unknown;
  mapSetInitialValue(map: unknown, data: Uint8Array, size: number): number;
  setPrint(cb: unknown): unknown;
  printProto: unknown;
  vsnprintf(buf: Uint8Array, size: number, fmt: unknown, ap: unknown): number;
  strerror(errnum: number): string;
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  capset(header: Uint32Array, data: Uint32Array): number;
}

let cached: Native | undefined;

function loadLibrary(koffi: Koffi, name: string, fix: string): ReturnType<Koffi['load']> {
  try {
    return koffi.load(name);
  } catch (err) {
    throw new NotSupportedError(`${name} (${(err as Error).message})`, fix);
  }
}

export function native(): Native {
  if (cached) return cached;
  let koffi: Koffi;
  try {
    koffi = require('koffi') as Koffi;
  } catch (err) {
    throw new NotSupportedError(`the koffi module (${(err as Error).message})`, 'run `npm ci` in the repository');
  }
  const bpf = loadLibrary(koffi, 'libbpf.so.1', 'install libbpf 1.x: `apt-get install libbpf1` (Debian/Ubuntu)');
  const libc = loadLibrary(koffi, 'libc.so.6', 'a glibc-based Linux system is required');
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  koffi.opaque('bpf_map');
  const printProto = koffi.proto('int libbpf_print_fn(int level, void *fmt, void *ap)');
  const major = bpf.func('uint32_t libbpf_major_version(void)')() as number;
  const minor = bpf.func('uint32_t libbpf_minor_version(void)')() as number;
  const mapInitial = bpf.func('const void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)');
  cached = {
    koffi,
    libbpfVersion: `${major}.${minor}`,
    objectOpenMem: bpf.func('bpf_object *bpf_object__open_mem(const void *buf, size_t size, const void *opts)'),
    objectLoad: bpf.func('int bpf_object__load(bpf_object *obj)'),
    objectClose: bpf.func('void bpf_object__close(bpf_object *obj)'),
    objectNextProgram: bpf.func('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)'),
    objectNextMap: bpf.func('bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)'),
    programName: bpf.func('const char *bpf_program__name(const bpf_program *prog)'),
    programSectionName: bpf.func('const char *bpf_program__section_name(const bpf_program *prog)'),
    programSetAutoload: bpf.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    programSetLogBuf: bpf.func('int bpf_program__set_log_buf(bpf_program *prog, void *buf, size_t size)'),
    programSetLogLevel: bpf.func('int bpf_program__set_log_level(bpf_program *prog, uint32_t level)'),
    programType: bpf.func('int bpf_program__type(const bpf_program *prog)'),
    programFd: bpf.func('int bpf_program__fd(const bpf_program *prog)'),
    programInsnCount: bpf.func('size_t bpf_program__insn_cnt(const bpf_program *prog)'),
    progTypeStr: bpf.func('const char *libbpf_bpf_prog_type_str(int type)'),
    mapName: bpf.func('const char *bpf_map__name(const bpf_map *map)'),
    mapSetPinPath: bpf.func('int bpf_map__set_pin_path(bpf_map *map, const char *path)'),
    mapInitialValue: (map, size) => mapInitial(map, size),
    mapSetInitialValue: bpf.func('int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    setPrint: bpf.func('void *libbpf_set_print(void *fn)'),
    printProto,
    vsnprintf: libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t size, void *fmt, void *ap)'),
    strerror: libc.func('const char *strerror(int errnum)'),
    prctl: libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
    capset: libc.func('int capset(void *hdr, void *data)'),
  };
  return cached;
}
