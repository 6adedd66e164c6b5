import { BpfError, NotSupportedError, VerifierError } from '../errors';
import { kernelError, syscalls } from './bpf-syscall';
import { captureLibbpfMessages, type LibbpfMessage } from './libbpf-messages';
import { mapInfo } from './maps';
import { native } from './native';
import { OpenedObject } from './opened-object';
import { programInfo } from './prog-stats';
import { verifyObject, type InitialValuePatch } from './verify-object';

export interface LoadOptions {
  objectName?: string;
  /** Load only these programs (by function name); the others stay unloaded. */
  programs?: readonly string[];
  /** Bytes to write into `.rodata`/`.data` before loading (`const volatile` settings). */
  patches?: readonly InitialValuePatch[];
  /**
   * For persistent deployments only: maps declared with `LIBBPF_PIN_BY_NAME` are pinned under this bpffs
   * directory (and reused when a compatible pin exists there). Without it nothing is pinned.
   */
  pinRoot?: string;
}

export interface LoadedProgram {
  name: string;
  section: string;
  /** libbpf's program type name ('xdp', 'sched_cls', 'cgroup_sock_addr', ...). */
  progType: string;
  fd: number;
  /** The kernel's program id (what `bpftool prog` shows). */
  id: number;
  /** enum bpf_attach_type the program was loaded for (libbpf derives it from the SEC name). */
  expectedAttachType: number;
  /** libbpf's struct bpf_program, for libbpf's own attach APIs (kprobe, tracepoint). */
  readonly handle: unknown;
}

export interface LoadedMap {
  name: string;
  fd: number;
  id: number;
  /** libbpf's map type name ('hash', 'ringbuf', ...). */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Where the map is pinned, when it is. */
  pinPath?: string;
}

/**
 * A bpf_object kept loaded in the kernel: its programs and maps stay alive until close(). Attachments hold
 * their own references, so they outlive close() until detached (or until their process dies).
 */
export class LoadedObject {
  private object: OpenedObject | undefined;
  readonly programs: LoadedProgram[];
  readonly maps: LoadedMap[];

  private constructor(object: OpenedObject, loaded: ReadonlySet<string>) {
    this.object = object;
    const s = syscalls();
    const n = native();
    this.programs = object.programs.filter((p) => loaded.has(p.name)).map((p) => {
      const fd = n.programFd(p.handle);
      return {
        name: p.name,
        section: p.section,
        progType: p.progType,
        fd,
        id: programInfo(fd).id,
        expectedAttachType: s.programExpectedAttachType(p.handle),
        handle: p.handle,
      };
    });
    this.maps = object.maps.map((m) => {
      const fd = s.mapFd(m.handle);
      const info = mapInfo(fd);
      const pinPath = s.mapPinPath(m.handle);
      return {
        name: m.name,
        fd,
        id: info.id,
        type: info.typeName,
        keySize: info.keySize,
        valueSize: info.valueSize,
        maxEntries: info.maxEntries,
        ...(pinPath ? { pinPath } : {}),
      };
    });
  }

  /**
   * Loads an object into the kernel. A rejected program throws VerifierError with the verifier log (judged
   * again alone, with a log, as verifyObject does); other failures throw BpfError/PermissionError.
   */
  static load(bytes: Uint8Array, options: LoadOptions = {}): LoadedObject {
    const objectName = options.objectName ?? 'ebpf-studio';
    const object = OpenedObject.open(bytes, objectName);
    try {
      const s = syscalls();
      const n = native();
      for (const m of object.maps) {
        if (s.mapPinPath(m.handle) !== null) n.mapSetPinPath(m.handle, options.pinRoot ? `${options.pinRoot.replace(/\/$/, '')}/${m.name}` : null);
      }
      for (const patch of options.patches ?? []) {
        if (!object.patchInitialValue(patch.section, patch.offset, patch.bytes)) {
          throw new BpfError(`cannot set ${patch.variable}: no ${patch.section} data in the object`);
        }
      }
      const wanted = options.programs;
      const unknown = (wanted ?? []).filter((name) => !object.programs.some((p) => p.name === name));
      if (unknown.length > 0) {
        throw new BpfError(`no program named ${unknown.join(', ')} in the object`, `choose from ${object.programs.map((p) => p.name).join(', ')}`);
      }
      const loaded = new Set<string>();
      for (const p of object.programs) {
        const on = !wanted || wanted.includes(p.name);
        n.programSetAutoload(p.handle, on);
        if (on) loaded.add(p.name);
      }
      const { result: rc, messages } = captureLibbpfMessages(() => object.load());
      if (rc !== 0) throw loadError(bytes, options, -rc, messages);
      return new LoadedObject(object, loaded);
    } catch (err) {
      object.close();
      throw err;
    }
  }

  program(name: string): LoadedProgram {
    const found = this.programs.find((p) => p.name === name);
    if (!found) throw new BpfError(`no loaded program named '${name}'`, `choose from ${this.programs.map((p) => p.name).join(', ') || '(none loaded)'}`);
    return found;
  }

  /** A map by name; internal data maps by their section ('.rodata', '.bss': libbpf prefixes the object name). */
  map(name: string): LoadedMap {
    const found = this.maps.find((m) => m.name === name) ?? (name.startsWith('.') ? this.maps.find((m) => m.name.endsWith(name)) : undefined);
    if (!found) throw new BpfError(`no map named '${name}'`, `choose from ${this.maps.map((m) => m.name).join(', ')}`);
    return found;
  }

  /** Frees the programs and maps (pinned maps stay pinned). Idempotent. */
  close(): void {
    this.object?.close();
    this.object = undefined;
  }
}

function loadError(bytes: Uint8Array, options: LoadOptions, errno: number, messages: readonly LibbpfMessage[]): BpfError {
  const failing = /^prog '([^']+)': (?:BPF program load failed|failed to load)/;
  const name = messages.map((m) => failing.exec(m.text)?.[1]).find((x) => x !== undefined);
  if (name !== undefined) {
    const verdict = verifyObject(bytes, { programs: [name], ...(options.patches ? { patches: options.patches } : {}) }).programs[0];
    if (verdict?.verdict === 'rejected' && verdict.log !== undefined) {
      return new VerifierError(`the verifier rejected program '${name}'`, verdict.log, verdict.logTruncated ?? false, verdict.errno ?? errno);
    }
  }
  const detail = messages.filter((m) => m.level === 'warn').map((m) => m.text).join('; ');
  if (/unrecognized|unknown|not supported|-524|-95/i.test(detail) && errno !== 1) {
    return new NotSupportedError(`loading the object (${detail})`, 'this kernel or libbpf 1.1 lacks a feature the object uses: see the libbpf message');
  }
  return kernelError(`loading the object${detail ? ` (${detail})` : ''}`, errno);
}
