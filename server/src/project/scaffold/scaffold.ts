import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../../engine/usage-error';
import { commonHeadersDir, type TemplateManifest } from '../../policy';
import { clangdConfig, compileCommands } from './clangd';
import { withProjectCgroup } from './sample-policy';

/**
 * `ebpf-studio new` and the editor's "New Scheduling Program…": a project from a template folder — its
 * files (program, header, sample policy, README) and the common headers it includes, beside each other
 * so quoted includes work; the sample's cgroup made the project's own; clangd's configuration; and a
 * README section on running it.
 */

export interface Scaffolded {
  readonly dir: string;
  /** Relative to `dir`. */
  readonly files: readonly string[];
  /** The cgroup its ebpf-studio.yaml attaches to (below the cgroup2 mount). */
  readonly cgroup: string;
}

/** `ebpf-studio/<dir name>`, in the characters a cgroup path of ebpf-studio.yaml may use. */
function projectCgroup(dir: string): string {
  const name = basename(dir).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '');
  return `ebpf-studio/${name || 'project'}`;
}

function projectSection(template: TemplateManifest, cgroup: string): string {
  const placed = template.programs.every((p) => p.attach === 'cgroup' || p.attach === 'sk_msg');
  const lines = [
    '',
    '## This project',
    '',
    `Scaffolded by \`ebpf-studio new ${template.name}\`. \`.clangd\` and \`compile_commands.json\` let clangd read`,
    'BPF C (-target bpf and the include paths `ebpf-studio verify` uses).',
    '',
    `- \`ebpf-studio verify ${template.source}\`: compile and judge every program with this kernel's verifier.`,
  ];
  if (placed) {
    lines.push(
      `- \`ebpf-studio run .\`: create the cgroup \`${cgroup}\` (below the cgroup2 mount), load and attach as`,
      '  `ebpf-studio.yaml` says, write the policy into the maps; Ctrl-C detaches and removes the cgroup.',
      '- `ebpf-studio run . --exec -- CMD ARGS...`: the same, with CMD started inside the cgroup.',
      '- While it runs: `ebpf-studio apply .` (a changed policy, without reloading), `ebpf-studio status .`,',
      '  `ebpf-studio health . SERVICE CLUSTER|ENDPOINT up|down`.',
    );
  } else {
    lines.push(`- \`ebpf-studio attach ${template.source} --prog NAME --to IFACE\`: attach a program to an interface (\`run\` places cgroup and sk_msg programs only).`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the project into `target` (created; a UsageError when it has files, unless `force`). */
export function scaffold(template: TemplateManifest, catalogDir: string, target: string, force: boolean): Scaffolded {
  const dir = resolve(target);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new UsageError(`${target} is not empty: pick a new directory, or pass --force to write the template's files into it`);
  }
  mkdirSync(dir, { recursive: true });
  const cgroup = projectCgroup(dir);
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  for (const name of template.files) {
    const text = readFileSync(join(template.dir, name), 'utf8');
    if (name === 'ebpf-studio.yaml') write(name, withProjectCgroup(text, cgroup));
    else if (name === 'README.md') write(name, text + projectSection(template, cgroup));
    else write(name, text);
  }
  for (const name of template.commonHeaders) write(name, readFileSync(join(commonHeadersDir(catalogDir), name), 'utf8'));
  if (!existsSync(join(dir, '.gitignore'))) write('.gitignore', '# a running `ebpf-studio run` keeps its session (with its owner token) here\n.ebpf-studio/\n*.o\n');
  write('.clangd', clangdConfig());
  write('compile_commands.json', compileCommands(dir, template.source));
  return { dir, files, cgroup };
}
