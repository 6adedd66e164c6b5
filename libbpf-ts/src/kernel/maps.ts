import type { Btf } from '../btf/btf';
import { formatValue } from '../btf/format-value';
import { BpfError } from '../errors';
import { ERRNO, errnoOf, kernelError, syscalls } from './bpf-syscall';

/**
 * Map operations on a map fd: CRUD, per-CPU values (one buffer per possible CPU), key paging and a
 * paged dump in bounded memory (BPF_MAP_LOOKUP_BATCH where the map type has it, else get_next_key +
 * lookup). A hash map changed while it is paged may skip or repeat entries (the kernel restarts the walk
 * from the first key when the cursor key was deleted) — that is the kernel's semantics, not ours.
 */

/** struct bpf_map_info of the 6.1 uapi header. */
const MAP_INFO = { size: 88, type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, flags: 20, name: 24, btfId: 64, btfKeyTypeId: 68, btfValueTypeId: 72 } as const;
/** BPF_MAP_TYPE_* numbers whose values are per CPU. */
const PER_CPU_TYPES = new Set([5, 6, 10, 21]);
const MAX_PAGE = 100_000;
/** What BPF_MAP_LOOKUP_BATCH answers for a map type without batch operations. */
const NO_BATCH: ReadonlySet<number> = new Set([ERRNO.EINVAL, ERRNO.EOPNOTSUPP, ERRNO.ENOTSUPP]);
const DEFAULT_PAGE = 1000;

export interface MapInfo {
  id: number;
  /** BPF_MAP_TYPE_* number and libbpf's name for it ('hash', 'percpu_array', ...; `type N` when libbpf 1.1 does not know it). */
  type: number;
  typeName: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  perCpu: boolean;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export function mapInfo(fd: number): MapInfo {
  const s = syscalls();
  const buf = new Uint8Array(MAP_INFO.size);
  const rc = s.objGetInfoByFd(fd, buf, [MAP_INFO.size]);
  if (rc !== 0) throw kernelError(`reading the info of map fd ${fd}`, errnoOf(rc));
  const view = new DataView(buf.buffer);
  const u32 = (offset: number): number => view.getUint32(offset, true);
  const nameBytes = buf.subarray(MAP_INFO.name, MAP_INFO.name + 16);
  const end = nameBytes.indexOf(0);
  const type = u32(MAP_INFO.type);
  return {
    id: u32(MAP_INFO.id),
    type,
    typeName: s.mapTypeStr(type) ?? `type ${type}`,
    name: Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('latin1'),
    keySize: u32(MAP_INFO.keySize),
    valueSize: u32(MAP_INFO.valueSize),
    maxEntries: u32(MAP_INFO.maxEntries),
    flags: u32(MAP_INFO.flags),
    perCpu: PER_CPU_TYPES.has(type),
    btfId: u32(MAP_INFO.btfId),
    btfKeyTypeId: u32(MAP_INFO.btfKeyTypeId),
    btfValueTypeId: u32(MAP_INFO.btfValueTypeId),
  };
}

let possibleCpus: number | undefined;

/** libbpf_num_possible_cpus(): how many values a per-CPU map holds per key. */
export function numPossibleCpus(): number {
  if (possibleCpus === undefined) {
    const n = syscalls().numPossibleCpus();
    if (n <= 0) throw kernelError('reading /sys/devices/system/cpu/possible', -n);
    possibleCpus = n;
  }
  return possibleCpus;
}

/** Bytes one value occupies in a lookup buffer: per-CPU values are 8-byte aligned, one slot per CPU. */
function slotSize(info: MapInfo): number {
  return info.perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize;
}

function valueBufferSize(info: MapInfo): number {
  return info.perCpu ? slotSize(info) * numPossibleCpus() : info.valueSize;
}

function splitPerCpu(info: MapInfo, bytes: Uint8Array): Uint8Array[] {
  const slot = slotSize(info);
  return Array.from({ length: numPossibleCpus() }, (_, cpu) => bytes.slice(cpu * slot, cpu * slot + info.valueSize));
}

function checkSize(what: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) throw new BpfError(`${what} is ${bytes.length} bytes, the map wants ${size}`, `pass exactly ${size} bytes`);
}

function lookupRaw(fd: number, info: MapInfo, key: Uint8Array): Uint8Array | undefined {
  checkSize('the key', key, info.keySize);
  const value = new Uint8Array(valueBufferSize(info));
  const rc = syscalls().mapLookupElem(fd, info.keySize === 0 ? null : key, value);
  if (rc === 0) return value;
  const errno = errnoOf(rc);
  if (errno === ERRNO.ENOENT) return undefined;
  throw kernelError(`looking up a key in map '${info.name}'`, errno, lookupFix(info));
}

function lookupFix(info: MapInfo): string | undefined {
  if (['ringbuf', 'perf_event_array', 'user_ringbuf'].includes(info.typeName)) return `a ${info.typeName} map has no elements to look up: read it with a RingBufferReader/PerfBufferReader`;
  return undefined;
}

/** The value stored under `key`, or undefined when there is none. For per-CPU maps use mapLookupPerCpu. */
export function mapLookup(fd: number, key: Uint8Array): Uint8Array | undefined {
  const info = mapInfo(fd);
  if (info.perCpu) throw new BpfError(`map '${info.name}' is per-CPU`, 'use mapLookupPerCpu (one value per possible CPU)');
  return lookupRaw(fd, info, key);
}

/** One value per possible CPU (index = CPU number), each trimmed to the map's value size. */
export function mapLookupPerCpu(fd: number, key: Uint8Array): Uint8Array[] | undefined {
  const info = mapInfo(fd);
  if (!info.perCpu) throw new BpfError(`map '${info.name}' is not per-CPU`, 'use mapLookup');
  const raw = lookupRaw(fd, info, key);
  return raw && splitPerCpu(info, raw);
}

export type UpdateFlag = 'any' | 'noexist' | 'exist';
const UPDATE_FLAGS: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };

/**
 * Stores a value. A per-CPU map takes one value per possible CPU, or one value that every CPU gets.
 * `flags` is BPF_ANY/BPF_NOEXIST/BPF_EXIST by name (or a raw number, e.g. with BPF_F_LOCK).
 */
export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array | readonly Uint8Array[], flags: UpdateFlag | number = 'any'): void {
  const info = mapInfo(fd);
  checkSize('the key', key, info.keySize);
  const raw = encodeValue(info, value);
  const flagValue = typeof flags === 'number' ? flags : UPDATE_FLAGS[flags];
  const rc = syscalls().mapUpdateElem(fd, key, raw, flagValue);
  if (rc !== 0) {
    const errno = errnoOf(rc);
    const fix = errno === ERRNO.EEXIST ? "the key exists: use flags 'any' or 'exist'" : errno === ERRNO.ENOENT ? "the key does not exist: use flags 'any' or 'noexist'" : errno === ERRNO.E2BIG ? `the map is full (max_entries ${info.maxEntries}): delete entries or raise max_entries` : undefined;
    throw kernelError(`updating map '${info.name}'`, errno, fix);
  }
}

function encodeValue(info: MapInfo, value: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (!info.perCpu) {
    if (!(value instanceof Uint8Array)) throw new BpfError(`map '${info.name}' is not per-CPU`, 'pass one Uint8Array value');
    checkSize('the value', value, info.valueSize);
    return value;
  }
  const cpus = numPossibleCpus();
  const values = value instanceof Uint8Array ? Array.from({ length: cpus }, () => value) : value;
  if (values.length !== cpus) throw new BpfError(`${values.length} per-CPU values given, this machine has ${cpus} possible CPUs`, `pass ${cpus} values or a single one for all`);
  const slot = slotSize(info);
  const raw = new Uint8Array(slot * cpus);
  values.forEach((v, cpu) => {
    checkSize(`the value for CPU ${cpu}`, v, info.valueSize);
    raw.set(v, cpu * slot);
  });
  return raw;
}

/** Deletes a key; false when it was not there. */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  const rc = syscalls().mapDeleteElem(fd, key);
  if (rc === 0) return true;
  const errno = errnoOf(rc);
  if (errno === ERRNO.ENOENT) return false;
  throw kernelError(`deleting a key of map fd ${fd}`, errno, errno === ERRNO.EINVAL ? 'array maps cannot delete elements: write a zero value instead' : undefined);
}

export interface KeyPage {
  keys: Uint8Array[];
  /** Pass as `after` for the next page; absent when this page reached the last key. */
  next?: Uint8Array;
}

/** Up to `limit` keys after `after` (from the first key without it), via BPF_MAP_GET_NEXT_KEY. */
export function mapKeys(fd: number, options: { after?: Uint8Array; limit?: number } = {}): KeyPage {
  const info = mapInfo(fd);
  const limit = clampPage(options.limit);
  const s = syscalls();
  const keys: Uint8Array[] = [];
  let prev: Uint8Array | null = options.after ?? null;
  for (;;) {
    const next = new Uint8Array(info.keySize);
    const rc = s.mapGetNextKey(fd, prev, next);
    if (rc !== 0) {
      const errno = errnoOf(rc);
      if (errno === ERRNO.ENOENT) return { keys };
      throw kernelError(`walking the keys of map '${info.name}'`, errno, keylessFix(info, errno));
    }
    if (keys.length === limit) return { keys, next: keys[keys.length - 1]! };
    keys.push(next);
    prev = next;
  }
}

function keylessFix(info: MapInfo, errno: number): string | undefined {
  if (errno !== ERRNO.EINVAL && errno !== ERRNO.EOPNOTSUPP && errno !== ERRNO.ENOTSUPP) return undefined;
  return `a ${info.typeName} map has no keys to walk (queues, stacks, bloom filters, ring buffers): read it with its own operations`;
}

function clampPage(size: number | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(size ?? DEFAULT_PAGE)));
}

/** Decoding of keys and values by BTF type (the reader's MapSpec has keyTypeId/valueTypeId). */
export interface DumpDecode {
  btf: Btf;
  keyTypeId?: number;
  valueTypeId?: number;
}

export interface MapEntry {
  key: Uint8Array;
  /** The value; for per-CPU maps one per possible CPU. */
  value: Uint8Array | Uint8Array[];
  keyDecoded?: unknown;
  valueDecoded?: unknown;
}

export interface MapPage {
  entries: MapEntry[];
  /** Opaque cursor for the next page (a string, so it can cross JSON-RPC); absent at the end. */
  next?: string;
}

export interface DumpOptions {
  /** The `next` of the previous page; omit for the first page. */
  after?: string;
  pageSize?: number;
  decode?: DumpDecode;
}

/**
 * One page of a map's entries. Memory is bounded by the page size: dump a 1M-entry map page by page and
 * drop the pages you have used. Cursors are only valid for the same map.
 */
export function mapDump(fd: number, options: DumpOptions = {}): MapPage {
  const info = mapInfo(fd);
  const pageSize = clampPage(options.pageSize);
  const cursor = options.after === undefined ? undefined : parseCursor(options.after);
  const page = cursor?.kind === 'key' ? undefined : lookupBatch(fd, info, pageSize, cursor?.bytes);
  const raw = page ?? walkPage(fd, info, pageSize, cursor?.bytes);
  const entries = raw.entries.map(({ key, value }) => decodeEntry(info, key, value, options.decode));
  return raw.next === undefined ? { entries } : { entries, next: raw.next };
}

interface RawPage {
  entries: { key: Uint8Array; value: Uint8Array }[];
  next?: string;
}

function parseCursor(cursor: string): { kind: 'batch' | 'key'; bytes: Uint8Array } {
  const match = /^(b|k):([A-Za-z0-9+/=]*)$/.exec(cursor);
  if (!match) throw new BpfError(`not a map dump cursor: '${cursor}'`, 'pass the `next` string of the previous page');
  return { kind: match[1] === 'b' ? 'batch' : 'key', bytes: new Uint8Array(Buffer.from(match[2]!, 'base64')) };
}

function cursorOf(kind: 'b' | 'k', bytes: Uint8Array): string {
  return `${kind}:${Buffer.from(bytes).toString('base64')}`;
}

/**
 * A page through BPF_MAP_LOOKUP_BATCH; undefined when the map type has no batch lookup (the caller then
 * walks keys). A hash bucket larger than the page makes the kernel answer ENOSPC: the page grows to fit it.
 */
function lookupBatch(fd: number, info: MapInfo, pageSize: number, inBatch: Uint8Array | undefined): RawPage | undefined {
  const s = syscalls();
  const valueSize = valueBufferSize(info);
  const tokenSize = Math.max(info.keySize, 8);
  let count = pageSize;
  for (;;) {
    const keys = new Uint8Array(info.keySize * count);
    const values = new Uint8Array(valueSize * count);
    const outBatch = new Uint8Array(tokenSize);
    const n = [count];
    const opts = { sz: s.koffi.sizeof(s.batchOpts), elem_flags: 0, flags: 0 };
    const rc = s.mapLookupBatch(fd, inBatch ?? null, outBatch, keys, values, n, opts) as number;
    const errno = rc === 0 ? 0 : errnoOf(rc);
    if (errno === ERRNO.ENOSPC && count < MAX_PAGE * 10) {
      count *= 2;
      continue;
    }
    if (errno !== 0 && errno !== ERRNO.ENOENT) {
      if (inBatch === undefined && NO_BATCH.has(errno)) return undefined;
      throw kernelError(`reading a page of map '${info.name}'`, errno);
    }
    const got = n[0] ?? 0;
    const entries = Array.from({ length: got }, (_, i) => ({
      key: keys.slice(i * info.keySize, (i + 1) * info.keySize),
      value: values.slice(i * valueSize, (i + 1) * valueSize),
    }));
    return errno === ERRNO.ENOENT ? { entries } : { entries, next: cursorOf('b', outBatch) };
  }
}

function walkPage(fd: number, info: MapInfo, pageSize: number, after: Uint8Array | undefined): RawPage {
  const { keys, next } = mapKeys(fd, { ...(after ? { after } : {}), limit: pageSize });
  const entries: RawPage['entries'] = [];
  for (const key of keys) {
    const value = lookupRaw(fd, info, key);
    if (value) entries.push({ key, value });
  }
  return next ? { entries, next: cursorOf('k', next) } : { entries };
}

function decodeEntry(info: MapInfo, key: Uint8Array, raw: Uint8Array, decode: DumpDecode | undefined): MapEntry {
  const value = info.perCpu ? splitPerCpu(info, raw) : raw;
  const entry: MapEntry = { key, value };
  if (decode?.keyTypeId) entry.keyDecoded = formatValue(decode.btf, decode.keyTypeId, key);
  if (decode?.valueTypeId) {
    const typeId = decode.valueTypeId;
    entry.valueDecoded = Array.isArray(value) ? value.map((v) => formatValue(decode.btf, typeId, v)) : formatValue(decode.btf, typeId, value);
  }
  return entry;
}

/**
 * Stores `count` entries in one call (BPF_MAP_UPDATE_BATCH): `keys` and `values` are the entries laid end
 * to end (per-CPU values: one 8-byte-aligned slot per possible CPU each). Returns how many were stored.
 */
export function mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: UpdateFlag = 'any'): number {
  const info = mapInfo(fd);
  checkSize('the keys', keys, info.keySize * count);
  checkSize('the values', values, valueBufferSize(info) * count);
  const s = syscalls();
  const n = [count];
  const opts = { sz: s.koffi.sizeof(s.batchOpts), elem_flags: UPDATE_FLAGS[flags], flags: 0 };
  const rc = s.mapUpdateBatch(fd, keys, values, n, opts) as number;
  if (rc !== 0) {
    const errno = errnoOf(rc);
    throw kernelError(`batch update of map '${info.name}' (stored ${n[0] ?? 0} of ${count})`, errno, errno === ERRNO.E2BIG ? `the map is full (max_entries ${info.maxEntries})` : undefined);
  }
  return n[0] ?? count;
}
