import { parseArgs } from 'node:util';
import { DetachRequest, PersistentListRequest, PersistentRemoveRequest, SessionListRequest, type SessionInfo } from '@ebpf-studio/remote-agent';
import { EXIT, UsageFailure } from '../exit-codes';
import { openTarget, TARGET_OPTIONS } from '../target-options';

function describe(s: SessionInfo): string[] {
  const head = `session ${s.id} "${s.name}" pid ${s.pid}, lease ${s.leaseMs} ms, last heartbeat ${(s.silentMs / 1000).toFixed(1)} s ago${s.persistent ? ', persistent' : ''}`;
  const attachments = s.attachments.map((a) => `  ${a.id}  ${a.program} (prog ${a.progId}) → ${JSON.stringify(a.target)} [${a.mechanism}${a.linkId !== undefined ? ` ${a.linkId}` : ''}${a.pinned ? `, pinned ${a.pinned}` : ''}]`);
  const maps = s.maps.length > 0 ? [`  maps: ${s.maps.map((m) => `${m.name} (${m.type})`).join(', ')}`] : [];
  return [head, ...attachments, ...maps];
}

/** `ebpf-studio sessions [--node N] [--json]`: what runs on the node, by session. */
export async function sessionsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...TARGET_OPTIONS, json: { type: 'boolean', default: false } } });
  const target = await openTarget(values);
  try {
    const sessions = await target.agent.request(SessionListRequest);
    const persistent = await target.agent.request(PersistentListRequest);
    if (values.json) console.log(JSON.stringify({ sessions, persistent }, null, 2));
    else {
      if (sessions.length === 0) console.log(`no sessions on ${target.label}`);
      for (const s of sessions) console.log(describe(s).join('\n'));
      for (const p of persistent) console.log(`persistent ${p.path}: ${p.type ?? 'pin'}${p.linkId !== undefined ? ` link ${p.linkId}` : ''}${p.progId !== undefined ? `, prog ${p.progId}` : ''} (detach --pinned ${p.path})`);
    }
    return EXIT.ok;
  } finally {
    await target.close();
  }
}

/** `ebpf-studio detach [--node N] <attachment-id> | --session S | --all | --pinned PATH` */
export async function detachCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...TARGET_OPTIONS, session: { type: 'string' }, all: { type: 'boolean', default: false }, pinned: { type: 'string' } } });
  const attachment = positionals[0];
  if ([attachment, values.session, values.all || undefined, values.pinned].filter((x) => x !== undefined).length !== 1) {
    throw new UsageFailure('detach takes one of: an attachment id, --session S, --all, --pinned PATH');
  }
  const target = await openTarget(values);
  try {
    if (values.pinned) {
      await target.agent.request(PersistentRemoveRequest, { path: values.pinned });
      console.log(`unpinned ${values.pinned}`);
      return EXIT.ok;
    }
    const sessions = await target.agent.request(SessionListRequest);
    const chosen = values.all ? sessions : values.session ? sessions.filter((s) => s.id === values.session) : sessions.filter((s) => s.attachments.some((a) => a.id === attachment));
    if (chosen.length === 0) throw new UsageFailure(`nothing to detach on ${target.label}: ${values.session ? `no session ${values.session}` : attachment ? `no attachment ${attachment}` : 'no sessions'}`);
    for (const s of chosen) {
      const detached = await target.agent.request(DetachRequest, { id: s.id, ...(attachment ? { attachment } : {}) });
      for (const id of detached) console.log(`detached ${id} (session ${s.id})`);
    }
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
