import { StudioMethods, type HealthParams, type PolicyParams, type PolicyWriteResult } from '@ebpf-studio/studio-protocol';
import { ProgressLocation, window, type LogOutputChannel } from 'vscode';
import { projectDirs } from '../bpf-document';
import type { Studio } from '../studio';

/** The project (a directory with ebpf-studio.yaml) to act on: the only one, or picked. */
async function pickProject(title: string): Promise<string | undefined> {
  const dirs = await projectDirs();
  if (dirs.length === 0) {
    void window.showWarningMessage('No ebpf-studio.yaml in the workspace: create a project with "eBPF: New Scheduling Program…".');
    return undefined;
  }
  return dirs.length === 1 ? dirs[0] : window.showQuickPick(dirs, { title, placeHolder: 'project directory' });
}

function report(log: LogOutputChannel, what: string, r: PolicyWriteResult): void {
  for (const w of r.warnings) log.warn(w);
  const warnings = r.warnings.length > 0 ? ` (${r.warnings.length} warnings in the output)` : '';
  void window.showInformationMessage(`${what} on ${r.node} (session ${r.session}): ${r.updates} map updates, ${r.deletes} deletes${warnings}.`);
}

/** Write ebpf-studio.yaml's services into the running session's policy maps. */
export async function applyPolicy(studio: Studio, log: LogOutputChannel): Promise<void> {
  const dir = await pickProject('Apply Policy');
  if (!dir) return;
  const params: PolicyParams = { dir };
  const result = await studio.withRetry(`Applying the policy of ${dir}`, () =>
    window.withProgress({ location: ProgressLocation.Notification, title: 'Applying the policy…' }, () => studio.request<PolicyWriteResult>(StudioMethods.apply, params)),
  );
  if (result) report(log, 'Policy applied', result);
}

/** Mark a service's cluster or endpoint up or down in the running session's policy maps. */
export async function setClusterHealth(studio: Studio, log: LogOutputChannel): Promise<void> {
  const dir = await pickProject('Set Cluster Health');
  if (!dir) return;
  const required = (v: string): string | undefined => (v.trim() === '' ? 'Required.' : undefined);
  const service = await window.showInputBox({ title: 'Set Cluster Health: service', prompt: 'A service name from ebpf-studio.yaml', validateInput: required });
  if (service === undefined) return;
  const target = await window.showInputBox({ title: `Set Cluster Health: ${service}`, prompt: 'A cluster name, or an endpoint ip:port', validateInput: required });
  if (target === undefined) return;
  const state = (await window.showQuickPick([{ label: 'down' as const }, { label: 'up' as const }], { title: `${service} → ${target} is…` }))?.label;
  if (!state) return;
  const params: HealthParams = { dir, service: service.trim(), target: target.trim(), state };
  const result = await studio.withRetry(`Marking ${target} ${state}`, () => studio.request<PolicyWriteResult>(StudioMethods.health, params));
  if (result) report(log, `${service}: ${target} marked ${state}`, result);
}
