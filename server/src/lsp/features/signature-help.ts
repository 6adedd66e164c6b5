import type { SignatureHelp } from 'vscode-languageserver';
import { callAt } from '../../knowledge/bpf-c-outline';
import type { KnowledgeService } from '../knowledge-service';

/** Signature help inside a helper's or kfunc's argument list, with the current argument highlighted. */
export function signatureHelp(knowledge: KnowledgeService, text: string, line: number, character: number): SignatureHelp | null {
  const call = callAt(text, line, character);
  if (!call) return null;
  const fn = knowledge.helper(call.name) ?? knowledge.kfunc(call.name);
  if (!fn) return null;
  const helper = knowledge.helper(call.name);
  const label = fn.signature;
  const open = label.indexOf('(');
  const parameters: { label: [number, number] }[] = [];
  let from = open + 1;
  for (const p of fn.params) {
    const piece = p.name || p.type;
    const at = label.indexOf(piece, from);
    if (at < 0) break;
    const start = p.name ? label.lastIndexOf(p.type.split(' ')[0]!, at) : at;
    parameters.push({ label: [start >= from ? start : at, at + piece.length] });
    from = at + piece.length;
  }
  return {
    signatures: [{ label, parameters, ...(helper?.description ? { documentation: { kind: 'markdown', value: helper.description } } : {}) }],
    activeSignature: 0,
    activeParameter: Math.min(call.argIndex, Math.max(0, parameters.length - 1)),
  };
}
