/**
 * Bootstrap after the probe: preflight, upload the payload when the node lacks this version (and the
 * Node runtime when the node has no Node.js ≥ 18), then start the agent. Uploads go to temporary names
 * and a completion marker is written last, so an interrupted bootstrap is simply done again.
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

export interface BootstrapOptions {
  /** Start the agent with `sudo -n`. */
  sudo: boolean;
  /** Default: this installation's bundled agent (dist/). */
  payload?: AgentPayload;
  /** Where fetched packages are cached on this machine. */
  cacheDir?: string;
  /** Bytes uploaded so far and the total planned, as the upload goes. */
  onUploadProgress?: (bytes: number, total: number) => void;
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

async function uploadRuntime(connection: SshConnection, probe: NodeProbe, arch: NodeArch, payload: AgentPayload, options: BootstrapOptions, where: string, progress: (bytes: number) => void): Promise<number> {
  const archive = await nodeRuntimeArchive(arch, options.cacheDir);
  const size = statSync(archive).size;
  const files = await RemoteFiles.open(connection);
  const root = cacheRoot(probe);
  await files.makeDirectories(root);
  await files.putFileAtomically({ path: '', source: archive, size, mode: 0o600 }, `${root}/node-v${NODE_RUNTIME_VERSION}-linux-${arch}.tgz`, progress);
  const result = await connection.run(bootstrapCommand('unpack-runtime', payload.hash, NODE_RUNTIME_VERSION, false));
  if (!result.stdout.includes(RUNTIME_READY)) {
    throw new AgentError(`${where}: unpacking the Node runtime failed (${result.stderr.trim().split('\n').pop() ?? `code ${result.code}`})`, { kind: 'Error', fix: `check free space in ${root}` }, where);
  }
  return size;
}

export async function bootstrapAgent(connection: SshConnection, probe: NodeProbe, where: string, options: BootstrapOptions): Promise<{ agent: RemoteAgent; report: BootstrapReport }> {
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
    const files = probe.payload === 'complete' ? [] : [...payload.common, ...(await archFiles(payload, arch, options.cacheDir))];
    const runtimeSize = probe.nodePath ? 0 : statSync(await nodeRuntimeArchive(arch, options.cacheDir)).size;
    const total = files.reduce((sum, f) => sum + f.size, 0) + runtimeSize;
    const remote = await RemoteFiles.open(connection);
    // An interrupted upload leaves agent files or the runtime archive under temporary names: never used, removed here.
    await remote.removeStaleParts(cacheRoot(probe));
    if (files.length > 0) {
      const dir = `${cacheRoot(probe)}/${payload.hash}`;
      const report = await remote.uploadFiles(dir, files, (bytes) => options.onUploadProgress?.(bytes, total));
      await remote.writeFileAtomically(`${dir}/.complete`, payload.hash);
      payloadBytes = report.bytes;
      payloadFiles = report.files;
      uploadMs = report.ms;
      options.log?.(`${where}: uploaded the agent (${report.files} files, ${report.bytes} bytes) in ${report.ms.toFixed(0)} ms`);
    }
    if (!probe.nodePath) {
      const runtimeStarted = performance.now();
      runtimeBytes = await uploadRuntime(connection, probe, arch, payload, options, where, (bytes) => options.onUploadProgress?.(payloadBytes + bytes, total));
      runtimeMs = performance.now() - runtimeStarted;
      options.log?.(`${where}: uploaded and unpacked Node ${NODE_RUNTIME_VERSION} (${runtimeBytes} bytes) in ${runtimeMs.toFixed(0)} ms`);
    }
  }
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
