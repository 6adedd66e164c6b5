import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver';
import { enclosingProgram, sectionStringAt } from '../../knowledge/bpf-c-outline';
import { sectionCompletions } from '../../knowledge/sections';
import type { KnowledgeService } from '../knowledge-service';
import { identifierAt } from './word-at';

const MAP_SNIPPET = [
  'struct {',
  '\t__uint(type, ${1|BPF_MAP_TYPE_HASH,BPF_MAP_TYPE_ARRAY,BPF_MAP_TYPE_PERCPU_ARRAY,BPF_MAP_TYPE_LRU_HASH,BPF_MAP_TYPE_LPM_TRIE,BPF_MAP_TYPE_SOCKHASH,BPF_MAP_TYPE_RINGBUF|});',
  '\t__uint(max_entries, ${2:1024});',
  '\t__type(key, ${3:__u32});',
  '\t__type(value, ${4:__u64});',
  '} ${5:name} SEC(".maps");',
  '$0',
].join('\n');

/**
 * Completion: SEC names inside SEC("…"); elsewhere the helpers the enclosing program's type may call on
 * the target kernel (others are not offered), the kernel's kfuncs, and a BTF map definition snippet.
 */
export async function completion(knowledge: KnowledgeService, uri: string, text: string, line: number, character: number): Promise<CompletionItem[]> {
  const sec = sectionStringAt(text, line, character);
  if (sec) {
    return sectionCompletions(sec.prefix).map((s, i) => ({
      label: s.template ?? s.name,
      kind: CompletionItemKind.EnumMember,
      detail: `${s.progType}${s.knownSince ? ` (libbpf ≥ ${s.knownSince})` : ''}`,
      sortText: String(i).padStart(4, '0'),
      textEdit: { range: { start: { line, character: sec.start }, end: { line, character: sec.end } }, newText: s.template ?? s.name },
    }));
  }
  const lineText = text.split('\n')[line] ?? '';
  const word = identifierAt(lineText, character);
  const prefix = word ? lineText.slice(word.start, character) : '';
  const program = enclosingProgram(await knowledge.outline(uri, text), line);
  const items: CompletionItem[] = [];
  if (program) {
    const available = program.progType ? await knowledge.availableHelpers(program.progType) : undefined;
    for (const h of knowledge.helpers().helpers) {
      if (!h.name.startsWith(prefix)) continue;
      if (available && !available.has(h.id)) continue;
      items.push({ label: h.name, kind: CompletionItemKind.Function, detail: h.signature, documentation: { kind: 'markdown', value: h.description }, insertText: h.name });
    }
    for (const k of knowledge.kfuncs()) {
      if (k.name.startsWith(prefix)) items.push({ label: k.name, kind: CompletionItemKind.Function, detail: `kfunc: ${k.signature}` });
    }
  } else if ('struct'.startsWith(prefix) || 'map'.startsWith(prefix)) {
    items.push({ label: 'BPF map (BTF-defined)', filterText: prefix || 'map', kind: CompletionItemKind.Snippet, insertTextFormat: InsertTextFormat.Snippet, insertText: MAP_SNIPPET, detail: 'struct { __uint(type, ...); ... } name SEC(".maps");' });
  }
  return items;
}
