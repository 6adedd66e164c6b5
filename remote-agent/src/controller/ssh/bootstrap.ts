/**
 * Bootstrap after the probe: preflight, upload the payload when the node lacks this version (and the
 * Node runtime when the node has no Node.js ≥ 18), then start the agent. Uploads go to temporary names
 * and a completion marker is written last, so an interrupted bootstrap is simply done again. A bootstrap
 * can be cancelled: nothing more is started, and an upload under way stops at once by resetting the
 * connection (connect again to bootstrap afresh); the next bootstrap removes the partial file.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AgentError } from '../agent-client';
import { archFiles, loadAgentPayload, NODE_RUNTIME_VERSION, nodeRuntimeArchive, type AgentPayload, type NodeArch } from '../payload';
import { startRemoteAgent, type RemoteAgent } from './agent-channel';
import { bootstrapCommand, RUNTIME_READY } from './bootstrap-script';
import type { SshConnection } from './connection';
import { preflight, type NodeProbe } from './probe';
import { RemoteFiles } from './upload';

/** What a bootstrap is doing now, for people watching it: bytes of the part being uploaded, unpacking the runtime, starting the agent. */
export type BootstrapProgress =
  | { readonly step: 'upload'; readonly what: 'agent' | 'runtime'; readonly bytes: number; readonly total: number }
  | { readonly step: 'unpack' | 'start' };

export interface BootstrapOptions {
  /** Start the agent with `sudo -n`. */
  sudo: boolean;
  /** Default: this installation's bundled agent (dist/). */
  payload?: AgentPayload;
  /** Where fetched packages are cached on this machine. */
  cacheDir?: string;
  /** Bytes uploaded so far and the total planned, as the upload goes. */
  onUploadProgress?: (bytes: number, total: number) => void;
  onProgress?: (progress: BootstrapProgress) => void;
  /** Cancels the bootstrap (it rejects with the signal's reason): nothing more is started; during an upload the connection is reset. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface BootstrapReport {
  /** Something was uploaded (a fresh node or a new agent version); false for a warm start. */
  readonly fresh: boolean;
  readonly payloadBytes: number;
  readonly payloadFiles: number;
  /** The compressed Node runtime uploaded, 0 when the node has its own Node.js or our runtime already. */
  readonly runtimeBytes: number;
  readonly uploadMs: number;
  readonly runtimeMs: number;
  readonly startMs: number;
  readonly totalMs: number;
  /** Bytes on the wire during the bootstrap (both directions, SSH framing included). */
  readonly wireBytes: { readonly sent: number; readonly received: number };
}

/** The node's cache directory for our files (paths for SFTP: never passed to a shell). */
function cacheRoot(probe: NodeProbe): string {
  return `${probe.home.replace(/\/+$/, '')}/.cache/ebpf-studio`;
}

const MB = 1_000_000;
const PART_NAMES = { agent: 'the agent', runtime: 'the Node runtime' } as const;

/** Megabytes with one decimal. */
function megabytes(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

/** Uploads the payload files and the runtime archive; unpacking and starting are the caller's. */
async function upload(connection: SshConnection, probe: NodeProbe, arch: NodeArch, payload: AgentPayload, options: BootstrapOptions, where: string): Promise<{ payloadBytes: number; payloadFiles: number; uploadMs: number; runtimeBytes: number; runtimeStarted: number }> {
  const { signal } = options;
  const files = probe.payload === 'complete' ? [] : [...payload.common, ...(await archFiles(payload, arch, options.cacheDir))];
  const archive = probe.nodePath ? undefined : await nodeRuntimeArchive(arch, options.cacheDir, signal);
  const runtimeSize = archive ? statSync(archive).size : 0;
  const agentSize = files.reduce((sum, f) => sum + f.size, 0);
  const total = agentSize + runtimeSize;
  let current: { what: 'agent' | 'runtime'; bytes: number; total: number } | undefined;
  const progress = (what: 'agent' | 'runtime', bytes: number, partTotal: number, before: number): void => {
    current = { what, bytes, total: partTotal };
    options.onUploadProgress?.(before + bytes, total);
    options.onProgress?.({ step: 'upload', what, bytes, total: partTotal });
  };
  const remote = await RemoteFiles.open(connection, signal);
  const root = cacheRoot(probe);
  try {
    // An interrupted upload leaves agent files or the runtime archive under temporary names: never used, removed here.
    const stale = await remote.removeStaleParts(root);
    if (stale.length > 0) options.log?.(`${where}: removed what an interrupted upload left: ${stale.map((p) => `${p.path.slice(root.length + 1)} (${p.bytes} bytes)`).join(', ')}`);
    let payloadBytes = 0;
    let payloadFiles = 0;
    let uploadMs = 0;
    if (files.length > 0) {
      const dir = `${root}/${payload.hash}`;
      const report = await remote.uploadFiles(dir, files, (bytes) => progress('agent', bytes, agentSize, 0));
      await remote.writeFileAtomically(`${dir}/.complete`, payload.hash);
      payloadBytes = report.bytes;
      payloadFiles = report.files;
      uploadMs = report.ms;
      options.log?.(`${where}: uploaded the agent (${report.files} files, ${report.bytes} bytes) in ${report.ms.toFixed(0)} ms`);
    }
    const runtimeStarted = performance.now();
    if (archive) {
      progress('runtime', 0, runtimeSize, payloadBytes);
      await remote.makeDirectories(root);
      await remote.putFileAtomically({ path: '', source: archive, size: runtimeSize, mode: 0o600 }, runtimeArchivePath(probe, arch), (bytes) => progress('runtime', bytes, runtimeSize, payloadBytes));
    }
    return { payloadBytes, payloadFiles, uploadMs, runtimeBytes: runtimeSize, runtimeStarted };
  } catch (err) {
    if (!signal?.aborted) throw err;
    connection.reset();
    const at = current ? ` while uploading ${PART_NAMES[current.what]} (${megabytes(current.bytes)} of ${megabytes(current.total)} MB sent)` : '';
    options.log?.(`${where}: bootstrap cancelled${at}: the upload stopped (connection reset); the partial file is never used and the next bootstrap removes it`);
    throw err;
  }
}

function runtimeArchivePath(probe: NodeProbe, arch: NodeArch): string {
  return `${cacheRoot(probe)}/node-v${NODE_RUNTIME_VERSION}-linux-${arch}.tgz`;
}

async function unpackRuntime(connection: SshConnection, probe: NodeProbe, payload: AgentPayload, where: string): Promise<void> {
  const result = await connection.run(bootstrapCommand('unpack-runtime', payload.hash, NODE_RUNTIME_VERSION, false));
  if (!result.stdout.includes(RUNTIME_READY)) {
    throw new AgentError(`${where}: unpacking the Node runtime failed (${result.stderr.trim().split('\n').pop() ?? `code ${result.code}`})`, { kind: 'Error', fix: `check free space in ${cacheRoot(probe)}` }, where);
  }
}

export async function bootstrapAgent(connection: SshConnection, probe: NodeProbe, where: string, options: BootstrapOptions): Promise<{ agent: RemoteAgent; report: BootstrapReport }> {
  const { signal } = options;
  signal?.throwIfAborted();
  const started = performance.now();
  const wireBefore = connection.bytes();
  preflight(probe, options.sudo, where);
  const arch = probe.arch!;
  const payload = options.payload ?? loadAgentPayload();
  let payloadBytes = 0;
  let payloadFiles = 0;
  let runtimeBytes = 0;
  let uploadMs = 0;
  let runtimeMs = 0;
  if (probe.payload !== 'complete' || !probe.nodePath) {
    const uploaded = await upload(connection, probe, arch, payload, options, where);
    ({ payloadBytes, payloadFiles, uploadMs, runtimeBytes } = uploaded);
    if (runtimeBytes > 0) {
      signal?.throwIfAborted();
      options.onProgress?.({ step: 'unpack' });
      await unpackRuntime(connection, probe, payload, where);
      runtimeMs = performance.now() - uploaded.runtimeStarted;
      options.log?.(`${where}: uploaded and unpacked Node ${NODE_RUNTIME_VERSION} (${runtimeBytes} bytes) in ${runtimeMs.toFixed(0)} ms`);
    }
  }
  signal?.throwIfAborted();
  options.onProgress?.({ step: 'start' });
  const startStarted = performance.now();
  const agent = await startRemoteAgent(connection, payload.hash, options.sudo, where, options.log);
  const startMs = performance.now() - startStarted;
  const wireAfter = connection.bytes();
  return {
    agent,
    report: {
      fresh: payloadFiles > 0 || runtimeBytes > 0,
      payloadBytes,
      payloadFiles,
      runtimeBytes,
      uploadMs,
      runtimeMs,
      startMs,
      totalMs: performance.now() - started,
      wireBytes: { sent: wireAfter.sent - wireBefore.sent, received: wireAfter.received - wireBefore.received },
    },
  };
}
