import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { outline } from '../../knowledge/bpf-c-outline';
import { findTemplate, listTemplates } from '../../policy';
import { scaffold as scaffoldProject } from '../../project/scaffold/scaffold';
import type { ScaffoldParams, ScaffoldResult, TemplateSummary } from '../studio-protocol';
import { fail } from './context';

/** The templates of bpf-templates/, for the "New Scheduling Program…" quick pick. */
export function templates(): TemplateSummary[] {
  return listTemplates().templates.map((t) => ({ name: t.name, summary: t.summary }));
}

/**
 * A project from a template, as `ebpf-studio new` makes it (the same scaffold: its own cgroup, clangd's
 * configuration, a README section), in `dir` (absolute; created; it must be empty unless `force`).
 */
export async function scaffold(params: ScaffoldParams): Promise<ScaffoldResult> {
  const catalog = listTemplates();
  const template = findTemplate(catalog, params.template);
  if (!template) fail(`no template "${params.template}" (templates: ${catalog.templates.map((t) => t.name).join(', ')})`);
  if (!isAbsolute(params.dir)) fail(`the folder must be an absolute path, not "${params.dir}"`);
  const made = scaffoldProject(template, catalog.dir, params.dir, params.force ?? false);
  const main = join(made.dir, template.source);
  const [first] = (await outline(readFileSync(main, 'utf8'))).programs;
  return { files: made.files.map((f) => join(made.dir, f)), main, ...(first ? { programLine: first.secLine } : {}) };
}
