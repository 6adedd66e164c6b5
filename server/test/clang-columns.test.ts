import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { characterColumn } from '../src/engine/clang-columns';
import { compileSource } from '../src/index';

test('a byte column after multi-byte characters becomes the column of the same character', () => {
  assert.equal(characterColumn('abc', 2), 2);
  // "é" is 2 bytes, "✓" 3, "😀" 4 bytes and 2 UTF-16 units
  assert.equal(characterColumn('"é" x', 6), 5);
  assert.equal(characterColumn('✓ y', 5), 3);
  assert.equal(characterColumn('😀z', 5), 3);
  assert.equal(characterColumn('ab', 3), 3, 'just past the end stays just past the end');
  assert.equal(characterColumn('', 1), 1);
});

test('clang\'s diagnostics point at the characters clang meant, in the source and in a header it includes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-columns-'));
  try {
    writeFileSync(join(dir, 'note.h'), '/* día */ static int h(void) { return missing_in_header; }\n');
    const line = '\tconst char *s = "héllo ✓"; int x = undefined_thing;';
    const text = ['#include "note.h"', 'int f(void)', '{', line, '\treturn x;', '}', ''].join('\n');
    const file = join(dir, 'utf.bpf.c');
    writeFileSync(file, text);
    const result = await compileSource(text, file);
    const inSource = result.diagnostics.find((d) => d.message.includes('undefined_thing'));
    assert.ok(inSource, JSON.stringify(result.diagnostics));
    assert.equal(inSource.column, line.indexOf('undefined_thing') + 1);
    assert.equal(inSource.endColumn === undefined || inSource.endColumn >= inSource.column, true);
    const inHeader = result.diagnostics.find((d) => d.message.includes('missing_in_header'));
    assert.ok(inHeader, JSON.stringify(result.diagnostics));
    assert.equal(inHeader.column, '/* día */ static int h(void) { return missing_in_header; }'.indexOf('missing_in_header') + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
