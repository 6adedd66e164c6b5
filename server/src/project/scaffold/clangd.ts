import { basename, join } from 'node:path';
import { baseFlags } from '../../engine/compile';

/**
 * What clangd needs to read BPF C like `ebpf-studio verify` compiles it (-target bpf, the multiarch
 * include directory, __TARGET_ARCH_*): a compile_commands.json entry for the program, and a .clangd that
 * gives the same flags to the project's other BPF sources and headers.
 */

export function compileCommands(dir: string, source: string): string {
  const file = join(dir, source);
  const entry = { directory: dir, file, arguments: ['clang', ...baseFlags(), '-c', file, '-o', join(dir, `${basename(source, '.c')}.o`)] };
  return `${JSON.stringify([entry], null, 2)}\n`;
}

export function clangdConfig(): string {
  const flags = baseFlags().filter((f) => f !== '-O2' && f !== '-g');
  return [
    '# clangd: read BPF C as ebpf-studio compiles it (compile_commands.json has the full command).',
    'CompileFlags:',
    '  Compiler: clang',
    `  Add: [${flags.join(', ')}]`,
    '',
  ].join('\n');
}
