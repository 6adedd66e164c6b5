import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  attachCgroup,
  attachKprobe,
  attachSkMsg,
  attachTcClsact,
  attachTcx,
  attachTracepoint,
  attachXdp,
  BpfError,
  detachRecord,
  enableStats,
  formatValue,
  interfaceIndex,
  kernelFeatures,
  LoadedObject,
  mapDelete,
  mapDump,
  mapUpdate,
  PerfBufferReader,
  programStats,
  readBpfObject,
  RingBufferReader,
  traceLines,
  type Attachment,
  type BpfObjectSpec,
  type StatsHandle,
} from '@ebpf-studio/libbpf-ts';
import type { AttachParams, AttachmentInfo, AttachTarget, EventBatch, EventsSubscribeParams, MapDumpParams, MapDumpResult, MapUpdateParams, SessionMapInfo, StatsResult } from '../../session-protocol';
import type { Journal } from './journal';
import type { SessionKernel } from './session-kernel';

interface Held {
  info: AttachmentInfo;
  attachment: Attachment;
  progFd: number;
}

interface ObjectEntry {
  loaded: LoadedObject;
  spec: BpfObjectSpec;
}

const BATCH_MS = 50;
const MAX_QUEUED_RECORDS = 50_000;
const TC_PRIORITY = 0xeb5;

/** The interface that carries this SSH session (from SSH_CONNECTION's server address), if any. */
function sshInterface(): string | undefined {
  const server = process.env['SSH_CONNECTION']?.split(' ')[2];
  if (!server) return undefined;
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.address === server)) return name;
  }
  return undefined;
}

function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2' && mountPoint) return mountPoint;
  }
  throw new BpfError('no cgroup2 file system is mounted on this node', 'mount one: mount -t cgroup2 none /sys/fs/cgroup');
}

function cgroupPath(path: string): string {
  const full = isAbsolute(path) ? path : join(cgroup2Mount(), path);
  if (!existsSync(full)) throw new BpfError(`no cgroup ${full} on this node`, 'create it first (ebpf-studio run creates the cgroups its policy names)');
  return full;
}

/** The libbpf-ts side of a session: loaded objects, attachments, map access, event streams, stats. */
export class KernelSession implements SessionKernel {
  private readonly objects = new Map<string, ObjectEntry>();
  private readonly held = new Map<string, Held>();
  private readonly streams = new Map<string, () => void>();
  private statsHandle: StatsHandle | undefined;

  private object(params: AttachParams): ObjectEntry {
    const bytes = Buffer.from(params.object, 'base64');
    const key = createHash('sha256').update(bytes).update(JSON.stringify(params.patches ?? [])).digest('hex');
    let entry = this.objects.get(key);
    if (!entry) {
      const patches = (params.patches ?? []).map((p) => ({ ...p, bytes: Buffer.from(p.bytes, 'base64') }));
      entry = { loaded: LoadedObject.load(bytes, { patches }), spec: readBpfObject(bytes).spec };
      this.objects.set(key, entry);
    }
    return entry;
  }

  private preflight(target: AttachTarget, force: boolean | undefined): string[] {
    if (target.kind !== 'xdp' && target.kind !== 'tc') return [];
    const ssh = sshInterface();
    if (ssh === target.iface && !force) {
      throw new BpfError(`refusing to attach ${target.kind} to ${target.iface}: it carries this SSH session, and a wrong verdict would cut the node off`, 'use another interface, or pass --force if you really mean it');
    }
    return ssh === target.iface ? [`attached to ${target.iface}, the interface of this SSH session (forced)`] : [];
  }

  attach(params: AttachParams, journal: Journal, pinDir: string | undefined): AttachmentInfo {
    const warnings = this.preflight(params.target, params.force);
    const { loaded } = this.object(params);
    const prog = loaded.program(params.program);
    const target = params.target;
    let attachment: Attachment;
    switch (target.kind) {
      case 'xdp':
        attachment = attachXdp(prog, interfaceIndex(target.iface), { mode: target.mode ?? 'generic' });
        break;
      case 'tc':
        attachment = kernelFeatures().tcx
          ? attachTcx(prog, interfaceIndex(target.iface), target.direction)
          : attachTcClsact(prog, interfaceIndex(target.iface), target.direction, { priority: TC_PRIORITY });
        break;
      case 'cgroup':
        attachment = attachCgroup(prog, cgroupPath(target.path));
        break;
      case 'sk_msg':
        attachment = attachSkMsg(prog, loaded.map(target.map).fd);
        break;
      case 'kprobe':
        attachment = attachKprobe(prog, target.symbol, { retprobe: target.retprobe ?? false });
        break;
      case 'tracepoint':
        attachment = attachTracepoint(prog, target.category, target.name);
        break;
    }
    const id = randomBytes(4).toString('hex');
    if (attachment.record.type !== 'link') journal.record({ kind: 'undo', attachment: id, record: attachment.record });
    let pinned: string | undefined;
    if (pinDir && attachment.pin) {
      mkdirSync(pinDir, { recursive: true });
      pinned = join(pinDir, `${params.program}-${id}`);
      attachment.pin(pinned);
    }
    if (attachment.note) warnings.push(attachment.note);
    const info: AttachmentInfo = {
      id,
      program: params.program,
      progId: prog.id,
      target,
      mechanism: attachment.record.type === 'link' ? 'link' : attachment.record.type === 'tc' ? 'tc-filter' : 'prog-attach',
      ...(attachment.linkId !== undefined ? { linkId: attachment.linkId } : {}),
      ...(pinned ? { pinned } : {}),
      warnings,
    };
    this.held.set(id, { info, attachment, progFd: prog.fd });
    return info;
  }

  detach(id: string, journal: Journal): boolean {
    const h = this.held.get(id);
    if (!h) return false;
    h.attachment.detach();
    if (h.attachment.record.type !== 'link') journal.record({ kind: 'done', attachment: id });
    this.held.delete(id);
    return true;
  }

  attachments(): AttachmentInfo[] {
    return [...this.held.values()].map((h) => h.info);
  }

  private mapEntries(): { name: string; fd: number; spec: BpfObjectSpec; info: SessionMapInfo }[] {
    const seen = new Set<string>();
    const out: { name: string; fd: number; spec: BpfObjectSpec; info: SessionMapInfo }[] = [];
    for (const { loaded, spec } of this.objects.values()) {
      for (const m of loaded.maps) {
        if (seen.has(m.name)) continue;
        seen.add(m.name);
        out.push({ name: m.name, fd: m.fd, spec, info: { name: m.name, id: m.id, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries } });
      }
    }
    return out;
  }

  maps(): SessionMapInfo[] {
    return this.mapEntries().map((m) => m.info);
  }

  private map(name: string): { fd: number; spec: BpfObjectSpec } {
    const m = this.mapEntries().find((e) => e.name === name);
    if (!m) throw new BpfError(`no map '${name}' in this session`, `maps: ${this.maps().map((x) => x.name).join(', ') || '(none loaded)'}`);
    return m;
  }

  dump(params: MapDumpParams): MapDumpResult {
    const { fd, spec } = this.map(params.map);
    const mapSpec = spec.maps.find((m) => m.name === params.map);
    const decode = spec.btf && mapSpec ? { btf: spec.btf, ...(mapSpec.keyTypeId ? { keyTypeId: mapSpec.keyTypeId } : {}), ...(mapSpec.valueTypeId ? { valueTypeId: mapSpec.valueTypeId } : {}) } : undefined;
    const page = mapDump(fd, { ...(params.after ? { after: params.after } : {}), ...(params.pageSize ? { pageSize: params.pageSize } : {}), ...(decode ? { decode } : {}) });
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    return {
      entries: page.entries.map((e) => ({
        key: e.keyDecoded ?? hex(e.key),
        value: e.valueDecoded ?? (Array.isArray(e.value) ? e.value.map(hex) : hex(e.value as Uint8Array)),
        keyHex: hex(e.key),
      })),
      ...(page.next ? { next: page.next } : {}),
    };
  }

  update(params: MapUpdateParams): void {
    if (params.value === undefined) throw new BpfError('maps.update needs a value');
    mapUpdate(this.map(params.map).fd, Buffer.from(params.key, 'hex'), Buffer.from(params.value, 'hex'));
  }

  remove(params: MapUpdateParams): void {
    if (!mapDelete(this.map(params.map).fd, Buffer.from(params.key, 'hex'))) throw new BpfError(`no such key in ${params.map}`);
  }

  stats(enable: boolean): StatsResult {
    if (enable && !this.statsHandle) this.statsHandle = enableStats();
    if (!enable && this.statsHandle) {
      this.statsHandle.close();
      this.statsHandle = undefined;
    }
    const programs = [...this.held.values()].map((h) => {
      const s = programStats(h.progFd);
      const runCount = Number(s.runCnt);
      const runTimeNs = Number(s.runTimeNs);
      return { program: h.info.program, progId: h.info.progId, runCount, runTimeNs, avgNs: runCount === 0 ? 0 : runTimeNs / runCount };
    });
    return { statsEnabledKernelWide: this.statsHandle !== undefined, programs };
  }

  subscribe(params: EventsSubscribeParams, deliver: (batch: EventBatch) => void): string {
    const subscription = randomBytes(4).toString('hex');
    let queue: unknown[] = [];
    let droppedTransport = 0;
    let lostKernel = 0;
    let inFlight = false;
    const push = (record: unknown): void => {
      if (queue.length >= MAX_QUEUED_RECORDS) droppedTransport++;
      else queue.push(record);
    };
    let stopSource: () => void;
    const source = params.source;
    if (source.kind === 'trace') {
      const lines = traceLines();
      let stopped = false;
      void (async () => {
        for await (const line of lines) {
          if (stopped) break;
          push(line);
        }
      })();
      stopSource = () => {
        stopped = true;
        void lines.return(undefined);
      };
    } else {
      const { fd, spec } = this.map(source.map);
      const typeId = source.btfType && spec.btf ? spec.btf.findByName(source.btfType)?.id : undefined;
      if (source.btfType && typeId === undefined) throw new BpfError(`no BTF type '${source.btfType}' in the object`, 'name a struct the program writes into the buffer; it must be in the object\'s BTF, e.g. through a global `const struct event *event_type __attribute__((unused));`');
      const decode = (bytes: Uint8Array): unknown => (typeId !== undefined && spec.btf ? formatValue(spec.btf, typeId, bytes) : Buffer.from(bytes).toString('hex'));
      if (source.kind === 'ringbuf') {
        const reader = new RingBufferReader(fd, (bytes) => push(decode(bytes)));
        stopSource = () => reader.close();
      } else {
        const reader = new PerfBufferReader(fd, 64, (bytes) => push(decode(bytes)), (count) => {
          lostKernel += count;
        });
        stopSource = () => reader.close();
      }
    }
    const timer = setInterval(() => {
      if (inFlight || (queue.length === 0 && droppedTransport === 0 && lostKernel === 0)) return;
      const records = queue;
      queue = [];
      inFlight = true;
      Promise.resolve(deliver({ subscription, records, lostKernel, droppedTransport })).finally(() => {
        inFlight = false;
      });
    }, BATCH_MS);
    this.streams.set(subscription, () => {
      clearInterval(timer);
      stopSource();
    });
    return subscription;
  }

  unsubscribe(subscription: string): void {
    this.streams.get(subscription)?.();
    this.streams.delete(subscription);
  }

  releaseAll(journal: Journal): void {
    for (const s of [...this.streams.keys()]) this.unsubscribe(s);
    this.statsHandle?.close();
    for (const [id, h] of [...this.held]) {
      if (h.info.pinned) continue;
      try {
        this.detach(id, journal);
      } catch (err) {
        process.stderr.write(`could not detach ${id}: ${(err as Error).message}\n`);
      }
    }
    for (const { loaded } of this.objects.values()) loaded.close();
    this.objects.clear();
  }
}

export function createKernelSession(): SessionKernel {
  return new KernelSession();
}

/** Undo what a dead session's journal still lists (its links died with it). */
export function rollbackJournal(journal: Journal): void {
  for (const entry of journal.pending()) {
    try {
      detachRecord(entry.record);
      journal.record({ kind: 'done', attachment: entry.attachment });
    } catch (err) {
      process.stderr.write(`could not undo ${entry.attachment}: ${(err as Error).message}\n`);
    }
  }
}
