#!/usr/bin/env node
// Runs the grammar tests (test/*.test.bpf.c, test/*.test.bpf-verifier-log: vscode-tmgrammar-test's format)
// with vscode-tmgrammar-test's own parser and runner; ends with "N passed, M failed", one per asserted line.
//   node test/run.js [filter...]     run the test files whose name contains a filter
//   node test/run.js --dump FILE     print the tokens of FILE (its header names the scope)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRegistryFromGrammars } = require('vscode-tmgrammar-test/dist/common/index');
const { parseGrammarTestCase, runGrammarTestCase } = require('vscode-tmgrammar-test/dist/unit/index');

const root = path.join(__dirname, '..');
// As the extension manifest contributes them. The base C grammar is VS Code's own
// (extensions/cpp/syntaxes/c.tmLanguage.json) as the tm-grammars package ships it.
const grammars = [
  { scopeName: 'source.c', path: require.resolve('tm-grammars/grammars/c.json') },
  {
    scopeName: 'source.c.bpf-injection',
    path: path.join(root, 'bpf-c.injection.tmLanguage.json'),
    injectTo: ['source.c', 'source.bpf-verifier-log'],
  },
  { scopeName: 'source.bpf-verifier-log', path: path.join(root, 'bpf-verifier-log.tmLanguage.json') },
];
// The C grammar includes these for inline asm; empty stand-ins keep vscode-textmate from warning.
const stubs = ['source.asm', 'source.x86', 'source.x86_64', 'source.arm'].map((scopeName) => ({
  grammar: { scopeName, path: `${scopeName}.json` },
  content: JSON.stringify({ scopeName, patterns: [] }),
}));
const registry = createRegistryFromGrammars([
  ...grammars.map((grammar) => ({ grammar, content: fs.readFileSync(grammar.path, 'utf8') })),
  ...stubs,
]);

/** Runs every test file (or those whose name contains a filter): [{ file, total, failed, messages }]. */
async function runGrammarTests(filters = []) {
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => /\.test\./.test(f) && !f.endsWith('.js'))
    .filter((f) => filters.length === 0 || filters.some((a) => f.includes(a)))
    .sort();
  const results = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(__dirname, file), 'utf8');
    const lines = text.split(/\r\n|\n/);
    let tc;
    let failures;
    try {
      tc = parseGrammarTestCase(text);
      failures = await runGrammarTestCase(registry, tc);
    } catch (err) {
      results.push({ file, total: 1, failed: 1, messages: [`${file}: ${err.message}`] });
      continue;
    }
    const messages = failures.map((f) => {
      // f.line: the asserted source line's 0-based index in the test file.
      const where = `${file}:${f.line + 1}:${f.start + 1} ${JSON.stringify(lines[f.line].slice(f.start, f.end))}`;
      return [
        where,
        f.missing.length ? `    missing:    ${f.missing.join(' ')}` : null,
        f.unexpected.length ? `    unexpected: ${f.unexpected.join(' ')}` : null,
        `    actual:     ${f.actual.join(' ')}`,
      ]
        .filter(Boolean)
        .join('\n');
    });
    results.push({ file, total: tc.assertions.length, failed: new Set(failures.map((f) => f.line)).size, messages });
  }
  return results;
}

async function dump(file) {
  const tc = parseGrammarTestCase(fs.readFileSync(file, 'utf8'));
  const grammar = await registry.loadGrammar(tc.metadata.scope);
  let stack = null;
  tc.source.forEach((line, n) => {
    const { tokens, ruleStack } = grammar.tokenizeLine(line, stack);
    stack = ruleStack;
    console.log(`${n + 1}: ${line}`);
    for (const t of tokens) {
      console.log(`    ${JSON.stringify(line.slice(t.startIndex, t.endIndex))} ${t.scopes.slice(1).join(' ')}`);
    }
  });
}

async function main(args) {
  if (args[0] === '--dump') return dump(args[1]);
  const results = await runGrammarTests(args);
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    for (const m of r.messages) console.log(`✖ ${m}`);
    console.log(`${r.failed ? '✖' : '✓'} ${r.file}: ${r.total - r.failed}/${r.total} asserted lines pass`);
    passed += r.total - r.failed;
    failed += r.failed;
  }
  if (results.length === 0) console.log('no test files found');
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

module.exports = { runGrammarTests };

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  });
}
