import { listSectionNames } from '@ebpf-studio/libbpf-ts';
import { findHelperHeader, loadHelperDefs, type HelperDoc, type HelperTable } from '../knowledge/helper-defs';
import { kernelKfuncs, type KfuncDoc } from '../knowledge/kfuncs';
import { outline, type Outline } from '../knowledge/bpf-c-outline';
import { Fetched } from './fetched';

/** The kernel the editor's facts describe, and how to ask it (EngineVerifier.knowledgeTarget decides which). */
export interface KnowledgeTarget {
  /** Same key, same kernel: facts are fetched once per key. */
  readonly key: string;
  /** Which helpers each program type may call on that kernel (its agent probes them). */
  helpers(progTypes: string[], helperIds: number[]): Promise<Record<string, number[]>>;
  /** That kernel's kfuncs; none when it has no BTF. */
  kfuncs(): Promise<KfuncDoc[]>;
}

/** A failed fetch of a target's facts is tried again this long after it failed. */
const RETRY_MS = 30_000;

interface TargetFacts {
  availability: Fetched<Record<string, number[]>>;
  kfuncs: Fetched<KfuncDoc[]>;
}

/**
 * The BPF facts hover, completion and signature help draw on: the installed libbpf's helper docs, the
 * target kernel's kfuncs and per-program-type helper availability, and each document's outline. The
 * target's facts are cached per target (a settings change or a new fallback node makes another target);
 * kfuncs never hold up a request: until the target's arrive, this machine's stand in.
 */
export class KnowledgeService {
  private readonly facts = new Map<string, TargetFacts>();
  private readonly outlines = new Map<string, { text: string; outline: Promise<Outline> }>();

  constructor(
    private readonly includePaths: () => readonly string[],
    private readonly target: () => KnowledgeTarget,
    private readonly retryMs = RETRY_MS,
  ) {}

  helpers(): HelperTable {
    return loadHelperDefs(findHelperHeader(this.includePaths()));
  }

  helper(name: string): HelperDoc | undefined {
    return this.helpers().byName.get(name);
  }

  /** The facts of the current target; meeting a target starts fetching its kfuncs, so they load while its helpers are probed. */
  private current(): TargetFacts {
    const target = this.target();
    let facts = this.facts.get(target.key);
    if (!facts) {
      facts = {
        availability: new Fetched(() => {
          const progTypes = [...new Set(listSectionNames().map((s) => s.progType))];
          return target.helpers(progTypes, this.helpers().helpers.map((h) => h.id));
        }, this.retryMs),
        kfuncs: new Fetched(() => target.kfuncs(), this.retryMs),
      };
      this.facts.set(target.key, facts);
      facts.kfuncs.peek();
    }
    return facts;
  }

  /** The target kernel's kfuncs once known; until then (or when they cannot be had) this machine's, if it has BTF. */
  kfuncs(): KfuncDoc[] {
    return this.current().kfuncs.peek() ?? kernelKfuncs();
  }

  kfunc(name: string): KfuncDoc | undefined {
    return this.kfuncs().find((k) => k.name === name);
  }

  /** Helper ids a program type may call on the target kernel; undefined when that cannot be known. */
  async availableHelpers(progType: string): Promise<Set<number> | undefined> {
    const table = await this.current().availability.wait();
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
