/** The C identifier under (or just before) a 0-based position, with its column span. */
export function identifierAt(lineText: string, character: number): { word: string; start: number; end: number } | undefined {
  let start = Math.min(character, lineText.length);
  let end = start;
  while (start > 0 && /\w/.test(lineText[start - 1]!)) start--;
  while (end < lineText.length && /\w/.test(lineText[end]!)) end++;
  const word = lineText.slice(start, end);
  return /^[A-Za-z_]\w*$/.test(word) ? { word, start, end } : undefined;
}
