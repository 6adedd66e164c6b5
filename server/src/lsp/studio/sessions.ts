import { readBpfObject } from '@ebpf-studio/libbpf-ts';
import { AttachTargetError, DetachRequest, MapDumpRequest, SessionListRequest, resolveAttachTarget, type AttachTarget } from '@ebpf-studio/remote-agent';
import { compileSource } from '../../engine/compile';
import { settingsToPatches } from '../../engine/settings';
import type { CancellationToken } from 'vscode-languageserver/node';
import { answeringCancel } from '../cancellation';
import type { AttachParams, AttachResult, DetachParams, DetachResult, MapsParams, MapsResult } from '../studio-protocol';
import { agentOf, fail, openDocument, type StudioContext } from './context';
import type { OwnedSessions } from './owned-sessions';
import { RequestProgress } from './progress';

/** As `ebpf-studio attach --lease`'s default. */
const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_PAGE = 100;

function describeTarget(t: AttachTarget): string {
  switch (t.kind) {
    case 'xdp':
      return `XDP on ${t.iface}${t.mode === 'native' ? ' (native)' : ''}`;
    case 'tc':
      return `tc ${t.direction} on ${t.iface}`;
    case 'cgroup':
      return `${t.attachType} on cgroup ${t.path}`;
    case 'sk_msg':
      return `map ${t.map}`;
    case 'kprobe':
      return `${t.retprobe ? 'kretprobe' : 'kprobe'} ${t.symbol}`;
    case 'tracepoint':
      return `tracepoint ${t.category}/${t.name}`;
  }
}

/** The document's object, compiled with the settings the verification uses. */
async function compileDocument(ctx: StudioContext, uri: string): Promise<Buffer> {
  const { doc, path } = openDocument(ctx, uri);
  const s = ctx.settings();
  const compiled = await compileSource(doc.getText(), path, { clang: s.clangPath, flags: s.cflags, includePaths: s.includePaths, defines: s.defines, timeoutMs: s.clangTimeoutMs, vmlinux: s.vmlinux });
  if (!compiled.object) {
    const first = compiled.diagnostics.find((d) => d.severity === 'error');
    fail(`${path} does not compile${first ? `: ${first.line}:${first.column}: ${first.message}` : ''}`);
  }
  return compiled.object;
}

/**
 * Compile the document and attach one program on a node in a new session this server holds. What it is
 * doing (compiling, reaching the node's agent, attaching) goes to the request's work-done progress; a
 * cancel stops reaching the agent, and one that comes while attaching detaches again.
 */
export async function attach(ctx: StudioContext, owned: OwnedSessions, params: AttachParams, token: CancellationToken): Promise<AttachResult> {
  const progress = new RequestProgress(ctx.connection, params.workDoneToken, `Attaching ${params.program} on ${params.node}`);
  return await answeringCancel(token, async (signal) => {
    progress.report('compiling');
    const object = await compileDocument(ctx, params.uri);
    const { spec } = readBpfObject(object);
    const program = spec.programs.find((p) => p.name === params.program);
    if (!program) fail(`no program "${params.program}" in the file (programs: ${spec.programs.map((p) => p.name).join(', ')})`);
    let target: AttachTarget;
    try {
      target = resolveAttachTarget(program.section, params.to);
    } catch (err) {
      if (err instanceof AttachTargetError) fail(err.message.replace('--to', 'a target'));
      throw err;
    }
    const agent = await agentOf(ctx, params.node, { signal, onProgress: progress.of(params.node, false) });
    signal.throwIfAborted();
    progress.report('attaching');
    const controller = await owned.open(params.node, agent, program.name, params.leaseMs ?? DEFAULT_LEASE_MS);
    try {
      const info = await controller.attach({ object: object.toString('base64'), program: program.name, target, patches: settingsToPatches(ctx.settings().sets, spec.globals) });
      signal.throwIfAborted();
      const warnings = info.warnings.map((w) => `; ${w}`).join('');
      return {
        node: params.node,
        session: controller.handle.id,
        attachment: info.id,
        description: `${info.program} (prog ${info.progId}) attached to ${describeTarget(info.target)} as ${info.mechanism} on ${params.node}${warnings}`,
      };
    } catch (err) {
      await owned.close(params.node, controller.handle.id).catch(() => undefined);
      if (signal.aborted) throw err;
      fail(`attaching ${program.name} on ${params.node}: ${(err as Error).message}`);
    }
  }).finally(() => progress.done());
}

/**
 * Detach one attachment, or a whole session. A session of this server is closed once nothing is attached
 * in it; anyone else's is detached through the node's agent (as `ebpf-studio detach`).
 */
export async function detach(ctx: StudioContext, owned: OwnedSessions, params: DetachParams): Promise<DetachResult> {
  const agent = await agentOf(ctx, params.node);
  const session = (await agent.request(SessionListRequest)).find((s) => s.id === params.session);
  if (!session) fail(`no session ${params.session} on ${params.node}`);
  if (params.attachment !== undefined && !session.attachments.some((a) => a.id === params.attachment)) fail(`session ${params.session} on ${params.node} has no attachment ${params.attachment}`);
  const ours = owned.get(params.node, params.session);
  const remaining = session.attachments.filter((a) => params.attachment !== undefined && a.id !== params.attachment);
  if (ours && remaining.length === 0) {
    await owned.close(params.node, params.session);
    return { detached: session.attachments.map((a) => a.id) };
  }
  return { detached: await agent.request(DetachRequest, { id: params.session, ...(params.attachment !== undefined ? { attachment: params.attachment } : {}) }) };
}

/** One page of a session's map, decoded by BTF on the node. */
export async function maps(ctx: StudioContext, params: MapsParams): Promise<MapsResult> {
  const agent = await agentOf(ctx, params.node);
  const page = await agent.request(MapDumpRequest, { id: params.session, map: params.map, pageSize: params.pageSize ?? DEFAULT_PAGE, ...(params.after ? { after: params.after } : {}) });
  return { entries: page.entries.map((e) => ({ key: e.key, value: e.value })), more: page.next !== undefined, ...(page.next !== undefined ? { next: page.next } : {}) };
}
