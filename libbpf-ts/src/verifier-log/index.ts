import { createLogParser } from './parser';
import type { LogParserOptions, ParsedLog } from './types';

export { createLogParser } from './parser';
export { decodeInsnDest, jumpTarget } from './insn';
export type { InsnRecord, LogParser, LogParserOptions, ParsedLog, SourceRef, VerifierFunc, VerifierStats } from './types';

export function parseVerifierLog(text: string, opts?: LogParserOptions): ParsedLog {
  const parser = createLogParser(opts);
  parser.write(text);
  return parser.end();
}

export async function parseVerifierLogStream(
  source: AsyncIterable<string | Uint8Array>,
  opts?: LogParserOptions,
): Promise<ParsedLog> {
  const parser = createLogParser(opts);
  for await (const chunk of source) parser.write(chunk);
  return parser.end();
}
