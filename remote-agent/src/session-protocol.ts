/**
 * Sessions on a node: a session is a process of its own holding the session's attachments (fd-based
 * bpf_links where the kernel allows), its journal (everything else it changed) and its lease. The
 * controller heartbeats; when heartbeats stop for longer than the lease (controller killed, network
 * partition) or the session is closed, the session rolls everything back and exits. Any channel can
 * reach a session through the node's agent: owners (holding the token) resume and heartbeat it; other
 * callers may list, inspect and detach.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AgentErrorData, InitialValuePatchWire } from './protocol';

export interface SessionOpenParams {
  /** A label for people (listed by `ebpf-studio sessions`). */
  name?: string;
  leaseMs?: number;
  /** Pin what is attached under /sys/fs/bpf/ebpf-studio/<name>/ so it outlives the session. */
  persistent?: boolean;
}

export interface SessionRef {
  id: string;
  token: string;
}

export interface SessionHandle extends SessionRef {
  leaseMs: number;
  pid: number;
}

export type AttachTarget =
  | { kind: 'xdp'; iface: string; mode?: 'generic' | 'native' }
  | { kind: 'tc'; iface: string; direction: 'ingress' | 'egress' }
  | { kind: 'cgroup'; path: string; attachType: string }
  | { kind: 'sk_msg'; map: string }
  | { kind: 'kprobe'; symbol: string; retprobe?: boolean }
  | { kind: 'tracepoint'; category: string; name: string };

export interface AttachParams extends SessionRef {
  /** The BPF ELF object, base64. */
  object: string;
  program: string;
  target: AttachTarget;
  patches?: InitialValuePatchWire[];
  /** Attach XDP/tc even on the interface that carries this SSH session. */
  force?: boolean;
}

export interface AttachmentInfo {
  id: string;
  program: string;
  progId: number;
  target: AttachTarget;
  /** How it is held: an fd-based link (gone with the session process), or something the journal undoes. */
  mechanism: 'link' | 'tc-filter' | 'prog-attach';
  linkId?: number;
  pinned?: string;
  warnings: string[];
}

export interface SessionMapInfo {
  name: string;
  id: number;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface SessionInfo {
  id: string;
  name: string;
  pid: number;
  createdAt: string;
  leaseMs: number;
  /** Milliseconds since the owner's last heartbeat. */
  silentMs: number;
  persistent: boolean;
  attachments: AttachmentInfo[];
  maps: SessionMapInfo[];
}

export interface DetachParams {
  id: string;
  /** One attachment; without it, every attachment of the session. */
  attachment?: string;
}

export interface MapDumpParams {
  id: string;
  map: string;
  /** Continue after this key (hex), for paging. */
  after?: string;
  pageSize?: number;
}

export interface MapEntry {
  key: unknown;
  value: unknown;
  /** Raw bytes, hex, for keys that can be written back. */
  keyHex: string;
}

export interface MapDumpResult {
  entries: MapEntry[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

export interface MapUpdateParams {
  id: string;
  map: string;
  /** Key and value as hex bytes. */
  key: string;
  value?: string;
}

export interface ProgramStats {
  program: string;
  progId: number;
  runCount: number;
  runTimeNs: number;
  avgNs: number;
}

export interface StatsResult {
  /** BPF_ENABLE_STATS is kernel-wide: it is held only while a stats view asks (and said so here). */
  statsEnabledKernelWide: boolean;
  programs: ProgramStats[];
}

export interface EventsSubscribeParams {
  id: string;
  source: { kind: 'ringbuf' | 'perf'; map: string; btfType?: string } | { kind: 'trace' };
}

export interface EventBatch {
  subscription: string;
  records: unknown[];
  /** Records lost so far: the kernel's count for perf buffers, our transport's for everything. */
  lostKernel: number;
  droppedTransport: number;
}

export const SessionOpenRequest = new RequestType<SessionOpenParams, SessionHandle, AgentErrorData>('session/open');
export const SessionResumeRequest = new RequestType<SessionRef, SessionInfo, AgentErrorData>('session/resume');
export const SessionHeartbeatRequest = new RequestType<SessionRef, { leaseMs: number }, AgentErrorData>('session/heartbeat');
export const SessionCloseRequest = new RequestType<SessionRef, void, AgentErrorData>('session/close');
export const SessionListRequest = new RequestType0<SessionInfo[], AgentErrorData>('session/list');
export const AttachRequest = new RequestType<AttachParams, AttachmentInfo, AgentErrorData>('session/attach');
export const DetachRequest = new RequestType<DetachParams, string[], AgentErrorData>('session/detach');
export const MapDumpRequest = new RequestType<MapDumpParams, MapDumpResult, AgentErrorData>('session/maps.dump');
export const MapUpdateRequest = new RequestType<MapUpdateParams, void, AgentErrorData>('session/maps.update');
export const MapDeleteRequest = new RequestType<MapUpdateParams, void, AgentErrorData>('session/maps.delete');
export const StatsRequest = new RequestType<{ id: string; enable: boolean }, StatsResult, AgentErrorData>('session/stats');
export const EventsSubscribeRequest = new RequestType<EventsSubscribeParams, { subscription: string }, AgentErrorData>('session/events.subscribe');
export const EventsUnsubscribeRequest = new RequestType<{ id: string; subscription: string }, void, AgentErrorData>('session/events.unsubscribe');
export const EventsNotification = new NotificationType<EventBatch>('session/events');

/** What a `persistent` session pinned on purpose and left attached after it ended. */
export interface PersistentAttachment {
  /** The session's name (the pin directory under /sys/fs/bpf/ebpf-studio/). */
  session: string;
  path: string;
  linkId?: number;
  type?: string;
  progId?: number;
}

export const PersistentListRequest = new RequestType0<PersistentAttachment[], AgentErrorData>('persistent/list');
/** Unpin one (its link is released, so the program detaches unless something else holds it). */
export const PersistentRemoveRequest = new RequestType<{ path: string }, void, AgentErrorData>('persistent/remove');
