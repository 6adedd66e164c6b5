import { Language, Parser, Query } from 'web-tree-sitter';

/** The C grammar (tree-sitter-c's wasm) and the queries the outline runs, loaded once per process. */
export interface CParser {
  parser: Parser;
  language: Language;
  /** Captures `fn`: every function definition. */
  functionQuery: Query;
}

let loading: Promise<CParser> | undefined;

async function load(): Promise<CParser> {
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    parser,
    language,
    functionQuery: new Query(language, '(function_definition) @fn'),
  };
}

/** The shared C parser; the first call loads web-tree-sitter and the grammar (≈ 15-35 ms). */
export function cParser(): Promise<CParser> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
