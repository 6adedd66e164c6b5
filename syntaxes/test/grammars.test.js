// The grammar tests under node's test runner (one test per test file), for a suite that runs `node --test`.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { runGrammarTests } = require('./run.js');

test('TextMate grammars', async (t) => {
  const results = await runGrammarTests();
  assert.ok(results.length > 0, 'no grammar test files found');
  for (const r of results) {
    await t.test(r.file, () => assert.ok(r.failed === 0, `\n${r.messages.join('\n')}`));
  }
});
