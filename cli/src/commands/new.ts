import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findTemplate, listTemplates, scaffold } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';
import { displayPath } from '../format';

export const NEW_HELP = `usage: ebpf-studio new TEMPLATE DIR [--force]
       ebpf-studio new --list

Scaffold a project from a template: its BPF C program and header (with the common headers it
includes), an ebpf-studio.yaml that verifies and runs here, .clangd + compile_commands.json for
clangd, and a README. DIR must be empty or new, unless --force.
  --list    one template a line: name, then summary`;

export async function newCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { list: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(NEW_HELP);
    return EXIT.ok;
  }
  const catalog = listTemplates();
  for (const problem of catalog.problems) console.error(`warning: ${problem}`);
  if (values.list) {
    const width = Math.max(0, ...catalog.templates.map((t) => t.name.length));
    for (const t of catalog.templates) console.log(`${t.name.padEnd(width)}  ${t.summary}`);
    return EXIT.ok;
  }
  const [name, dir, ...extra] = positionals;
  if (!name || !dir || extra.length > 0) throw new UsageFailure('usage: ebpf-studio new TEMPLATE DIR [--force] (ebpf-studio new --list names the templates)');
  const template = findTemplate(catalog, name);
  if (!template) throw new UsageFailure(`no template "${name}" (templates: ${catalog.templates.map((t) => t.name).join(', ')})`);
  const made = scaffold(template, catalog.dir, dir, values.force);
  console.log(`created ${displayPath(made.dir)} from ${template.name}: ${made.files.join(', ')}`);
  console.log(`next: ebpf-studio verify ${displayPath(join(made.dir, template.source))}  ·  ebpf-studio run ${displayPath(made.dir)}  (cgroup ${made.cgroup})`);
  return EXIT.ok;
}
