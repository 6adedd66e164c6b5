import type { InsnRecord, ParsedLog } from '@ebpf-studio/libbpf-ts';
import { describeContextAccess } from './context-fields';
import { globalArgumentAdvice, globalFunctionAt } from './global-function';
import { mapArgumentAdvice, mapArgumentTooSmall } from './map-argument-size';
import { mapDefinition, mapDefinitionProblem } from './map-definitions';
import { mapTypeUse } from './map-types';
import { packetChangingCall, stalePacketPointerAdvice } from './packet-invalidation';
import { releasedBefore, releasedReferenceAdvice } from './released-reference';
import { recordLocation, type LocateContext, type ProgramPlace } from './root-cause';
import type { RelatedLocation } from './types';

/**
 * What the case at hand adds to its catalogue entry's general words, when the log or the source shows
 * which of the entry's causes it is: its own explanation and fix, a few words after the message, and
 * related locations.
 */
export interface CaseAdvice {
  explanation?: string;
  fix?: string;
  /** Appended to the message after " — ". */
  suffix?: string;
  related: RelatedLocation[];
}

function noteAt(record: InsnRecord, message: string, log: ParsedLog, program: ProgramPlace, ctx: LocateContext): RelatedLocation[] {
  const at = recordLocation(record, log, ctx, program);
  return at ? [{ file: at.file, line: at.line, column: at.column, message }] : [];
}

/** A pointer used (or released again) after its reference was given back. */
function released(log: ParsedLog | undefined, program: ProgramPlace, ctx: LocateContext, again: boolean): CaseAdvice {
  const call = releasedBefore(log);
  if (!call || !log) return { related: [] };
  return { ...releasedReferenceAdvice(call.helper, again), related: noteAt(call.record, `${call.helper}() released the reference here`, log, program, ctx) };
}

/** `symbol`: the helper, kfunc or map the message names. */
export function caseAdvice(code: string, kernelMessage: string, symbol: string | undefined, log: ParsedLog | undefined, program: ProgramPlace, ctx: LocateContext): CaseAdvice {
  switch (code) {
    case 'BPF-NULL-DEREF': {
      // a pointer argument of a global function: no lookup to blame, the function is verified for any caller
      const fn = /'mem_or_null'/.test(kernelMessage) ? globalFunctionAt(log) : undefined;
      const line = fn !== undefined ? ctx.source.functionLine(fn) : undefined;
      if (fn === undefined || line === undefined) return { related: [] };
      return { ...globalArgumentAdvice(fn), related: [{ file: ctx.file, line, column: ctx.source.codeSpan(line).column, message: `${fn}() is global: verified on its own, its pointer arguments may be NULL` }] };
    }
    case 'BPF-SCALAR-DEREF': {
      // a packet pointer kept across a helper that can move the packet (encap/decap): it is a number now
      const call = packetChangingCall(log);
      if (call && log) return { ...stalePacketPointerAdvice(call.helper), related: noteAt(call.record, `${call.helper}() invalidates the packet pointers taken before it`, log, program, ctx) };
      return released(log, program, ctx, false);
    }
    case 'BPF-HELPER-ARG':
      return released(log, program, ctx, true);
    case 'BPF-UNINIT': {
      // a key or value variable smaller than the map's: the helper reads past it
      const small = mapArgumentTooSmall(log);
      if (!small) return { related: [] };
      const definition = mapDefinition(ctx.source, small.map);
      const declared = definition && new RegExp(`__type\\(\\s*${small.what}\\s*,\\s*([^)]+?)\\s*\\)`).exec(definition.code)?.[1];
      return { ...mapArgumentAdvice(small, declared ?? undefined), related: [] };
    }
    case 'BPF-CTX-ACCESS': {
      const field = describeContextAccess(ctx.btf, program.progType, kernelMessage);
      return field ? { suffix: field, related: [] } : { related: [] };
    }
    case 'BPF-MAP-HELPER': {
      const type = /map_type (\d+)/.exec(kernelMessage)?.[1];
      const use = type !== undefined ? mapTypeUse(Number(type)) : undefined;
      return use ? { suffix: `the map is ${use}`, related: [] } : { related: [] };
    }
    case 'LIBBPF-MAP-CREATE': {
      const definition = symbol !== undefined ? mapDefinition(ctx.source, symbol) : undefined;
      const problem = definition ? mapDefinitionProblem(definition) : undefined;
      return problem ? { suffix: problem, related: [] } : { related: [] };
    }
    default:
      return { related: [] };
  }
}
