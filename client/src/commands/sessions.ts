import { StudioMethods, type AttachParams, type AttachResult, type DetachParams, type NodeSummary, type VerifyOnParams, type VerifyOnResult } from '@ebpf-studio/studio-protocol';
import { ProgressLocation, window, type QuickPickItem } from 'vscode';
import { activeBpfDocument } from '../bpf-document';
import { listNodes, pickNode } from '../node-picker';
import type { Studio } from '../studio';

/** What `--to` names for a program of this section, and how to check it before anything reaches a node. */
function targetKind(section: string): { prompt: string; validate: (v: string) => string | undefined } {
  const required = (what: string) => (v: string) => (v.trim() === '' ? `Name the ${what}.` : undefined);
  if (/^(xdp|tc|tcx|classifier)\b/.test(section)) {
    return {
      prompt: 'the network interface on the node (e.g. eth0)',
      validate: (v) => (/^[A-Za-z0-9_.:@-]{1,15}$/.test(v.trim()) ? undefined : 'An interface name: 1–15 letters, digits or _.:@-'),
    };
  }
  if (section.startsWith('cgroup')) return { prompt: 'the cgroup (a path under the cgroup2 mount, e.g. ebpf-studio/clusterset)', validate: required('cgroup') };
  if (/^(sk_msg|sk_skb)/.test(section)) return { prompt: 'the sockhash or sockmap to attach to', validate: required('map') };
  if (/^(kprobe|kretprobe)/.test(section)) return { prompt: 'the kernel symbol (empty: the one in the section name)', validate: () => undefined };
  return { prompt: 'the target, as `ebpf-studio attach --to` takes it (empty when the section names it)', validate: () => undefined };
}

interface ProgramItem extends QuickPickItem {
  name: string;
  section: string;
}

/**
 * Attach… : pick a node, verify the active file on its kernel (the server's report lists the
 * programs), pick an accepted program, name the target, then attach with a cancellable progress.
 */
export async function attach(studio: Studio, onChanged: () => void): Promise<AttachResult | undefined> {
  const document = activeBpfDocument('attach one of its programs');
  if (!document) return undefined;
  const node = await pickNode(studio, 'Attach on node…');
  if (!node) return undefined;
  const uri = document.uri.toString();
  const verifyParams: VerifyOnParams = { uri, targets: [node] };
  const verify = async (): Promise<VerifyOnResult> => {
    const result = await window.withProgress({ location: ProgressLocation.Notification, title: `Verifying on ${node}`, cancellable: true }, (progress, token) =>
      studio.requestWithProgress<VerifyOnResult>(StudioMethods.verifyOn, verifyParams, progress, token),
    );
    const unreachable = result.unreachable.find((u) => u.node === node);
    if (unreachable) throw new Error(`node ${node} cannot be reached: ${unreachable.error}`);
    return result;
  };
  const report = await studio.withRetry(`Verifying on ${node}`, verify);
  if (!report) return undefined;
  const items: ProgramItem[] = report.programs.map((p) => {
    const cell = Object.values(p.verdicts)[0];
    const ok = cell?.verdict === 'accepted';
    return { name: p.name, section: p.section, label: `${ok ? '$(pass)' : '$(error)'} ${p.name}`, description: p.section, detail: cell ? `${cell.verdict} by ${cell.kernel}${cell.code ? ` (${cell.code})` : ''}` : undefined };
  });
  const program = await window.showQuickPick(items, { title: `Attach on ${node}: program`, matchOnDescription: true });
  if (!program) return undefined;
  const kind = targetKind(program.section);
  const to = await window.showInputBox({ title: `Attach ${program.name} (${program.section}) on ${node}`, prompt: `Attach to ${kind.prompt}`, validateInput: kind.validate, ignoreFocusOut: true });
  if (to === undefined) return undefined;
  const params: AttachParams = { uri, program: program.name, node, ...(to.trim() ? { to: to.trim() } : {}) };
  const result = await studio.withRetry(`Attaching ${program.name} on ${node}`, () =>
    window.withProgress({ location: ProgressLocation.Notification, title: `Attaching ${program.name} on ${node}`, cancellable: true }, (progress, token) =>
      studio.requestWithProgress<AttachResult>(StudioMethods.attach, params, progress, token),
    ),
  );
  if (!result) return undefined;
  onChanged();
  void window.showInformationMessage(`Attached on ${result.node}: ${result.description}`);
  return result;
}

interface AttachmentItem extends QuickPickItem {
  target: DetachParams;
}

/** What to detach, and how the UI names it ("count_packets → xdp eth1", or a session's name). */
export interface DetachChoice {
  target: DetachParams;
  label: string;
}

/** How an attachment is named in the pick list and the notification. */
export function attachmentLabel(a: { program: string; target: string }): string {
  return `${a.program} → ${a.target}`;
}

/** Every attachment on this machine and the inventory's nodes (sessions without attachments offered as a whole). */
function attachmentItems(nodes: readonly NodeSummary[]): AttachmentItem[] {
  return nodes.flatMap((n) =>
    n.sessions.flatMap((s) =>
      s.attachments.length === 0
        ? [{ target: { node: n.name, session: s.id }, label: `${s.name}`, description: `${n.name} · session without attachments` }]
        : s.attachments.map((a) => ({ target: { node: n.name, session: s.id, attachment: a.id }, label: attachmentLabel(a), description: `${n.name} · ${s.name} · ${a.mechanism}` })),
    ),
  );
}

/** Detach an attachment (from the Nodes tree, or picked from every node's sessions). */
export async function detach(studio: Studio, onChanged: () => void, given?: DetachChoice): Promise<void> {
  let choice = given;
  if (!choice) {
    const nodes = await listNodes(studio);
    if (!nodes) return;
    const items = attachmentItems(nodes);
    if (items.length === 0) {
      void window.showInformationMessage('Nothing is attached on this machine or the inventory\'s nodes.');
      return;
    }
    choice = await window.showQuickPick(items, { title: 'Detach', matchOnDescription: true });
    if (!choice) return;
  }
  const { target: params, label } = choice;
  const done = await studio.withRetry(`Detaching on ${params.node}`, () =>
    window.withProgress({ location: ProgressLocation.Notification, title: `Detaching on ${params.node}…` }, () => studio.request<unknown>(StudioMethods.detach, params).then(() => true)),
  );
  onChanged();
  if (done) void window.showInformationMessage(`Detached ${label} on ${params.node}.`);
}
