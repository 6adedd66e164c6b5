import type { VmlinuxMode } from '../engine/vmlinux';

/** The `ebpfStudio.*` settings the server honours (the client contributes them). */
export interface StudioSettings {
  clangPath: string;
  cflags: string[];
  includePaths: string[];
  defines: string[];
  debounceMs: number;
  /** Whose kernels verify: 'local' (this machine's) and/or node names (ebpf-studio.yaml, ssh aliases). */
  verifyTarget: string[];
  /** ebpf-studio.yaml to resolve node names with; default: found upwards from the document. */
  inventory: string;
  /** `ssh -F` file for nodes; default: ~/.ssh/config. */
  sshConfig: string;
  /** '' verifies with full root privileges; e.g. 'bpf,net_admin' as a reduced-capability loader. */
  caps: string;
  globs: string[];
  clangTimeoutMs: number;
  /** const volatile settings: NAME → VALUE */
  sets: Record<string, string>;
  /** A generated vmlinux.h for the local kernel: when the source includes it ('auto'), always, or never. */
  vmlinux: VmlinuxMode;
}

export const DEFAULT_SETTINGS: StudioSettings = {
  clangPath: 'clang',
  cflags: [],
  includePaths: [],
  defines: [],
  debounceMs: 300,
  verifyTarget: ['local'],
  inventory: '',
  sshConfig: '',
  caps: '',
  globs: ['**/*.bpf.c'],
  clangTimeoutMs: 20_000,
  sets: {},
  vmlinux: 'auto',
};

/** 'auto' | 'on' | 'off'; the boolean of earlier versions is read as 'on' / 'off'. */
function vmlinuxMode(value: unknown): VmlinuxMode {
  if (value === true) return 'on';
  if (value === false) return 'off';
  return value === 'on' || value === 'off' ? value : 'auto';
}

function stringArray(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : fallback;
}

/** Merge whatever the client sent over the defaults, ignoring values of the wrong type. */
export function readSettings(raw: unknown): StudioSettings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
  const sets = r['sets'] && typeof r['sets'] === 'object' ? Object.fromEntries(Object.entries(r['sets'] as Record<string, unknown>).map(([k, v]) => [k, String(v)])) : {};
  return {
    clangPath: str(r['clangPath'], DEFAULT_SETTINGS.clangPath) || 'clang',
    cflags: stringArray(r['cflags'], DEFAULT_SETTINGS.cflags),
    includePaths: stringArray(r['includePaths'], DEFAULT_SETTINGS.includePaths),
    defines: stringArray(r['defines'], DEFAULT_SETTINGS.defines),
    debounceMs: num(r['debounceMs'], DEFAULT_SETTINGS.debounceMs),
    verifyTarget: typeof r['verifyTarget'] === 'string' && r['verifyTarget'] !== '' ? [r['verifyTarget']] : stringArray(r['verifyTarget'], DEFAULT_SETTINGS.verifyTarget).filter((t) => t !== '').slice(0, 16),
    inventory: str(r['inventory'], ''),
    sshConfig: str(r['sshConfig'], ''),
    caps: str(r['caps'], DEFAULT_SETTINGS.caps),
    globs: stringArray(r['globs'], DEFAULT_SETTINGS.globs),
    clangTimeoutMs: num(r['clangTimeoutMs'], DEFAULT_SETTINGS.clangTimeoutMs),
    sets,
    vmlinux: vmlinuxMode(r['vmlinux']),
  };
}
