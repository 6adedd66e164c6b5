import { StudioMethods, type ScaffoldParams, type ScaffoldResult, type TemplateSummary } from '@ebpf-studio/studio-protocol';
import { commands, Position, ProgressLocation, Range, TextEditorRevealType, Uri, window, workspace } from 'vscode';
import type { Studio } from '../studio';

/** Template quick pick → folder → scaffold → reveal the program in the explorer and open it at its first SEC (where its CodeLens is). */
export async function newSchedulingProgram(studio: Studio): Promise<void> {
  const templates = await studio.withRetry('Listing the templates', () => studio.request<TemplateSummary[]>(StudioMethods.templates, {}));
  if (!templates) return;
  const template = await window.showQuickPick(
    templates.map((t) => ({ label: t.name, detail: t.summary })),
    { title: 'New Scheduling Program: template', matchOnDetail: true },
  );
  if (!template) return;
  const [folder] =
    (await window.showOpenDialog({
      title: `New Scheduling Program: an empty folder for ${template.label}`,
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Create Here',
      ...(workspace.workspaceFolders?.[0] ? { defaultUri: workspace.workspaceFolders[0].uri } : {}),
    })) ?? [];
  if (!folder) return;
  const params: ScaffoldParams = { template: template.label, dir: folder.fsPath };
  const result = await studio.withRetry(`Creating ${template.label} in ${folder.fsPath}`, () =>
    window.withProgress({ location: ProgressLocation.Notification, title: `Creating ${template.label}…` }, () =>
      studio.request<ScaffoldResult>(StudioMethods.scaffold, params),
    ),
  );
  if (!result) return;
  const main = Uri.file(result.main);
  const at = new Position(result.programLine ?? 0, 0);
  const document = await workspace.openTextDocument(main);
  await commands.executeCommand('revealInExplorer', main);
  // revealInExplorer focuses the Explorer; the editor comes last so it has the focus (and its CodeLens,
  // which VS Code may not fetch for an editor that lost the focus as it opened)
  const editor = await window.showTextDocument(document, { preview: false, selection: new Range(at, at) });
  editor.revealRange(new Range(at, at), TextEditorRevealType.InCenter);
}
