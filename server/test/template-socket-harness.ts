import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachCgroup, attachSkMsg, formatValue, LoadedObject, mapLookupPerCpu, readBpfObject, type Attachment, type BpfObjectSpec, type InitialValuePatch } from '@ebpf-studio/libbpf-ts';
import { compileBpf, createCgroup, tempDir, type TestCgroup } from '@ebpf-studio/test-support';
import { settingsToPatches } from '../src/engine/settings';
import { commonHeadersDir, findTemplate, listTemplates, programSets, type ProgramDef, type TemplateManifest } from '../src/policy';

/** Shared by the behavioural tests of the socket templates: compile, load, attach to a test cgroup, run fixture scripts. */

export const TEMPLATES_DIR = join(__dirname, '..', '..', '..', 'bpf-templates');

export function template(name: string): TemplateManifest {
  const found = findTemplate(listTemplates(TEMPLATES_DIR), name);
  if (!found) throw new Error(`no template ${name} in ${TEMPLATES_DIR}`);
  return found;
}

export function fixture(templateName: string, file: string): string {
  return join(TEMPLATES_DIR, templateName, 'fixtures', file);
}

/** The template's object, compiled as a scaffolded project would be (common headers on the include path). */
export function compileTemplate(name: string): Uint8Array {
  const t = template(name);
  return readFileSync(compileBpf(join(t.dir, t.source), tempDir(), ['-I', commonHeadersDir(TEMPLATES_DIR)]));
}

/** `settings:` of a policy program → the .rodata patches the loader applies, through the engine's --set path. */
export function settingsPatches(object: Uint8Array, name: string, settings: ProgramDef['settings']): InitialValuePatch[] {
  const program: ProgramDef = { name: 'test', template: name, attach: {}, settings, at: { line: 1, col: 1 } };
  const wire = settingsToPatches(programSets(program, template(name)), readBpfObject(object).spec.globals);
  return wire.map((p) => ({ section: p.section, offset: p.offset, variable: p.variable, bytes: Buffer.from(p.bytes, 'base64') }));
}

export interface AttachedTemplate {
  readonly object: LoadedObject;
  readonly spec: BpfObjectSpec;
  readonly cgroup: TestCgroup;
  readonly attachments: Attachment[];
  /** Detaches everything, frees the object and removes the cgroup. Idempotent. */
  close(): void;
}

/**
 * Loads a template and attaches its programs as template.json says: cgroup programs to a fresh test cgroup,
 * sk_msg programs to their sockhash. `settings` may depend on the cgroup (it is created first). Undoes what
 * it did if a step fails.
 */
export function attachTemplate(name: string, options: { settings?: (cgroup: TestCgroup) => ProgramDef['settings'] } = {}): AttachedTemplate {
  const bytes = compileTemplate(name);
  const cgroup = createCgroup(name);
  const attachments: Attachment[] = [];
  let object: LoadedObject | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const a of attachments.reverse()) a.detach();
    object?.close();
    cgroup.remove();
  };
  try {
    object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, name, options.settings?.(cgroup) ?? {}) });
    for (const p of template(name).programs) {
      if (p.attach === 'cgroup') attachments.push(attachCgroup(object.program(p.name), cgroup.path));
      else if (p.attach === 'sk_msg') attachments.push(attachSkMsg(object.program(p.name), object.map(p.map!).fd));
    }
    return { object, spec: readBpfObject(bytes).spec, cgroup, attachments, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** A per-CPU counters struct (the value at `key`) summed over CPUs, field by field, decoded by its BTF type. */
export function counterTotals(attached: AttachedTemplate, mapName: string, key: Uint8Array = new Uint8Array(4)): Record<string, number> {
  const spec = attached.spec.maps.find((m) => m.name === mapName);
  if (!spec?.valueTypeId || !attached.spec.btf) throw new Error(`no BTF value type for map ${mapName}`);
  const totals: Record<string, number> = {};
  for (const bytes of mapLookupPerCpu(attached.object.map(mapName).fd, key) ?? []) {
    const fields = formatValue(attached.spec.btf, spec.valueTypeId, bytes) as Record<string, string | number>;
    for (const [field, value] of Object.entries(fields)) totals[field] = (totals[field] ?? 0) + Number(value);
  }
  return totals;
}

/** The ids of the programs attached to a cgroup, as bpftool lists them. */
export function attachedProgramIds(cgroupPath: string): number[] {
  const rows = JSON.parse(execFileSync('bpftool', ['-j', 'cgroup', 'show', cgroupPath], { encoding: 'utf8' }) || '[]') as { id: number }[];
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/**
 * A fixture's stdout as JSON lines: each call answers the next line, and rejects with the fixture's
 * stderr when it exits first or takes longer than `timeoutMs`.
 */
export function jsonLines(child: ChildProcess): <T>(timeoutMs?: number) => Promise<T> {
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  let exited: number | null | undefined;
  let wake: (() => void) | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    wake?.();
  });
  child.on('exit', (code) => {
    exited = code;
    wake?.();
  });
  return async <T>(timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    while (lines.length === 0) {
      if (exited !== undefined) throw new Error(`the fixture exited with ${exited} before answering; stderr: ${stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        child.kill('SIGKILL');
        throw new Error(`no answer within ${timeoutMs} ms; stderr: ${stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return JSON.parse(lines.shift()!) as T;
  };
}

/** The first line a fixture prints, as JSON. */
export function firstJsonLine<T>(child: ChildProcess, timeoutMs = 30_000): Promise<T> {
  return jsonLines(child)<T>(timeoutMs);
}
