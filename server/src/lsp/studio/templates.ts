import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { commonHeadersDir, findTemplate, listTemplates } from '../../policy';
import type { ScaffoldParams, ScaffoldResult, TemplateSummary } from '../studio-protocol';
import { fail } from './context';

/** The templates of bpf-templates/, for the "New Scheduling Program…" quick pick. */
export function templates(): TemplateSummary[] {
  return listTemplates().templates.map((t) => ({ name: t.name, summary: t.summary }));
}

/**
 * A project from a template, as `ebpf-studio new`: the manifest's files and the common headers it
 * includes, copied into `dir` (created; it must be empty unless `force`).
 */
export function scaffold(params: ScaffoldParams): ScaffoldResult {
  const catalog = listTemplates();
  const template = findTemplate(catalog, params.template);
  if (!template) fail(`no template "${params.template}" (templates: ${catalog.templates.map((t) => t.name).join(', ')})`);
  if (!isAbsolute(params.dir)) fail(`the folder must be an absolute path, not "${params.dir}"`);
  if (existsSync(params.dir) && readdirSync(params.dir).length > 0 && !params.force) fail(`${params.dir} is not empty: choose an empty folder (or overwrite with force)`);
  mkdirSync(params.dir, { recursive: true });
  const copies = [
    ...template.files.map((f) => ({ from: join(template.dir, f), name: f })),
    ...template.commonHeaders.map((h) => ({ from: join(commonHeadersDir(catalog.dir), h), name: h })),
  ];
  const files = copies.map(({ from, name }) => {
    const to = join(params.dir, name);
    mkdirSync(join(to, '..'), { recursive: true });
    copyFileSync(from, to);
    return to;
  });
  return { files, main: join(params.dir, template.source) };
}
