import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, release } from 'node:os';
import { join } from 'node:path';
import { EngineError } from './engine-error';

const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

function cacheRoot(): string {
  return process.env['EBPF_STUDIO_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'ebpf-studio');
}

/** Identifies a kernel build: its release and a hash of its BTF (two builds of one release differ). */
function kernelBuildId(): string {
  const btf = readFileSync(VMLINUX_BTF);
  return `${release()}-${createHash('sha256').update(btf).digest('hex').slice(0, 16)}`;
}

const pending = new Map<string, Promise<string>>();

/**
 * A directory holding `vmlinux.h` for the running kernel (`bpftool btf dump file /sys/kernel/btf/vmlinux
 * format c`), generated once per kernel build and cached; add it with -I.
 */
export function vmlinuxIncludeDir(bpftool = 'bpftool'): Promise<string> {
  if (!existsSync(VMLINUX_BTF)) {
    return Promise.reject(new EngineError('this kernel has no BTF (/sys/kernel/btf/vmlinux), so vmlinux.h cannot be generated', 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or include the uapi headers instead'));
  }
  const dir = join(cacheRoot(), 'vmlinux', kernelBuildId());
  const header = join(dir, 'vmlinux.h');
  if (existsSync(header) && statSync(header).size > 0) return Promise.resolve(dir);
  const running = pending.get(dir);
  if (running) return running;
  const made = new Promise<string>((resolve, reject) => {
    execFile(bpftool, ['btf', 'dump', 'file', VMLINUX_BTF, 'format', 'c'], { maxBuffer: 512 * 1024 * 1024 }, (err, stdout) => {
      pending.delete(dir);
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new EngineError(`could not generate vmlinux.h: ${missing ? `${bpftool} not found` : err.message}`, missing ? 'install bpftool (`apt-get install bpftool`)' : undefined));
        return;
      }
      mkdirSync(dir, { recursive: true });
      const partial = `${header}.${process.pid}.tmp`;
      writeFileSync(partial, stdout);
      renameSync(partial, header);
      resolve(dir);
    });
  });
  pending.set(dir, made);
  return made;
}

/** How vmlinux.h is provided: always, never, or when the source includes it and this kernel has BTF. */
export type VmlinuxMode = 'auto' | 'on' | 'off';

const INCLUDES_VMLINUX = /^[ \t]*#[ \t]*include[ \t]*[<"](?:[^>"]*\/)?vmlinux\.h[>"]/m;

/**
 * The include directory to add for `mode`: 'on' always (failing without BTF); 'auto' only when `text`
 * includes vmlinux.h and this kernel has BTF (a project's own vmlinux.h still wins: the directory goes
 * last, and a quoted include finds the source's directory first); 'off' never.
 */
export async function vmlinuxFor(mode: VmlinuxMode, text: string, bpftool?: string): Promise<string | undefined> {
  if (mode === 'off') return undefined;
  if (mode === 'auto' && (!INCLUDES_VMLINUX.test(text) || !existsSync(VMLINUX_BTF))) return undefined;
  return vmlinuxIncludeDir(bpftool);
}
