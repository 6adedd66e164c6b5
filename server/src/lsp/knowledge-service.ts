import { listSectionNames } from '@ebpf-studio/libbpf-ts';
import { findHelperHeader, loadHelperDefs, type HelperDoc, type HelperTable } from '../knowledge/helper-defs';
import { kernelKfuncs, type KfuncDoc } from '../knowledge/kfuncs';
import { outline, type Outline } from '../knowledge/bpf-c-outline';

/** Asks the target kernel which helpers each program type may call (through the agent). */
export type HelperProbe = (progTypes: string[], helperIds: number[]) => Promise<Record<string, number[]>>;

/**
 * The BPF facts hover, completion and signature help draw on: the installed libbpf's helper docs, the
 * target kernel's kfuncs and per-program-type helper availability, and each document's outline.
 * Everything is loaded on first use and cached.
 */
export class KnowledgeService {
  private availability: Promise<Record<string, number[]> | undefined> | undefined;
  private kfuncList: KfuncDoc[] | undefined;
  private readonly outlines = new Map<string, { text: string; outline: Promise<Outline> }>();

  constructor(
    private readonly includePaths: () => readonly string[],
    private readonly probe: HelperProbe,
  ) {}

  helpers(): HelperTable {
    return loadHelperDefs(findHelperHeader(this.includePaths()));
  }

  helper(name: string): HelperDoc | undefined {
    return this.helpers().byName.get(name);
  }

  kfuncs(): KfuncDoc[] {
    if (!this.kfuncList) {
      try {
        this.kfuncList = kernelKfuncs();
      } catch {
        this.kfuncList = [];
      }
    }
    return this.kfuncList;
  }

  kfunc(name: string): KfuncDoc | undefined {
    return this.kfuncs().find((k) => k.name === name);
  }

  /** Helper ids a program type may call on the target kernel; undefined when that cannot be known. */
  async availableHelpers(progType: string): Promise<Set<number> | undefined> {
    if (!this.availability) {
      const progTypes = [...new Set(listSectionNames().map((s) => s.progType))];
      const ids = this.helpers().helpers.map((h) => h.id);
      this.availability = this.probe(progTypes, ids).catch(() => undefined);
    }
    const table = await this.availability;
    const ids = table?.[progType];
    return ids ? new Set(ids) : undefined;
  }

  outline(uri: string, text: string): Promise<Outline> {
    const cached = this.outlines.get(uri);
    if (cached && cached.text === text) return cached.outline;
    const parsed = outline(text);
    this.outlines.set(uri, { text, outline: parsed });
    return parsed;
  }

  forget(uri: string): void {
    this.outlines.delete(uri);
  }
}

