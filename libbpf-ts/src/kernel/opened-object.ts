import { BpfError } from '../errors';
import { native } from './native';

export interface OpenedProgram {
  handle: unknown;
  name: string;
  section: string;
  progType: string;
}

export interface OpenedMap {
  handle: unknown;
  name: string;
}

/** A libbpf bpf_object opened from memory; close() frees it and everything the kernel holds for it. */
export class OpenedObject {
  private handle: unknown;
  readonly programs: OpenedProgram[] = [];
  readonly maps: OpenedMap[] = [];

  private constructor(handle: unknown) {
    this.handle = handle;
    const n = native();
    for (let p = n.objectNextProgram(handle, null); p; p = n.objectNextProgram(handle, p)) {
      const type = n.programType(p);
      this.programs.push({
        handle: p,
        name: n.programName(p),
        section: n.programSectionName(p),
        progType: n.progTypeStr(type) ?? `type ${type}`,
      });
    }
    for (let m = n.objectNextMap(handle, null); m; m = n.objectNextMap(handle, m)) {
      this.maps.push({ handle: m, name: n.mapName(m) });
    }
  }

  /** Opens (parses, not loads) an object; throws BpfError with libbpf's errno when libbpf refuses it. */
  static open(bytes: Uint8Array, objectName: string): OpenedObject {
    const n = native();
    const OpenOpts = n.koffi.struct({
      sz: 'size_t',
      object_name: 'const char *',
      relaxed_maps: 'bool',
      pin_root_path: 'const char *',
      attach_prog_fd_stub: 'uint32_t',
      kconfig: 'const char *',
      btf_custom_path: 'const char *',
      kernel_log_buf: 'void *',
      kernel_log_size: 'size_t',
      kernel_log_level: 'uint32_t',
    });
    const opts = { sz: n.koffi.sizeof(OpenOpts), object_name: objectName, relaxed_maps: false, pin_root_path: null, attach_prog_fd_stub: 0, kconfig: null, btf_custom_path: null, kernel_log_buf: null, kernel_log_size: 0, kernel_log_level: 0 };
    const handle = n.objectOpenMem(bytes, bytes.length, n.koffi.as(opts, n.koffi.pointer(OpenOpts)));
    if (!handle) {
      const errno = n.koffi.errno();
      throw new BpfError(`libbpf could not open the object: ${n.strerror(errno)}`, undefined, errno);
    }
    return new OpenedObject(handle);
  }

  /** Maps never pin while we only verify: pin-by-name paths are cleared. */
  clearPinPaths(): void {
    const n = native();
    for (const m of this.maps) n.mapSetPinPath(m.handle, null);
  }

  /** Overwrite bytes of an internal data map's initial value (e.g. a const volatile in .rodata). */
  patchInitialValue(section: string, offset: number, bytes: Uint8Array): boolean {
    const n = native();
    const map = this.maps.find((m) => m.name.endsWith(section));
    if (!map) return false;
    const size = [0];
    const ptr = n.mapInitialValue(map.handle, size);
    const length = size[0] ?? 0;
    if (!ptr || offset + bytes.length > length) return false;
    const current = new Uint8Array(n.koffi.view(ptr, length).slice(0));
    current.set(bytes, offset);
    return n.mapSetInitialValue(map.handle, current, length) === 0;
  }

  /** Returns 0 or a negative errno. */
  load(): number {
    if (!this.handle) throw new BpfError('object already closed');
    const rc = native().objectLoad(this.handle);
    return rc;
  }

  close(): void {
    if (this.handle) native().objectClose(this.handle);
    this.handle = undefined;
  }
}
