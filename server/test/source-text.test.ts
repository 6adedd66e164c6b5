import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceText } from '../src/engine/source-text';

const text = [
  '// balance() used to live in SEC("xdp") in balance.c', // 1
  '/* SEC("maps") counters: the old form,', //              2
  '   balance(ctx) { see below } */', //                      3
  'static const char *s = "// not a comment SEC(\\"tc\\")";', // 4
  'char c = \'"\';', //                                          5
  'SEC("xdp")', //                                              6
  'int balance(struct xdp_md *ctx) // the program', //         7
  '{', //                                                       8
  '\treturn 2; /* XDP_PASS */', //                             9
  '}', //                                                       10
].join('\n');

test('code is found where it is, not in the comments that mention it', () => {
  const source = new SourceText(text);
  assert.equal(source.functionLine('balance'), 7);
  assert.equal(source.sectionLine('xdp', 7), 6);
  assert.equal(source.sectionLine('xdp', undefined), 6);
  assert.equal(source.sectionLine('maps', undefined), undefined, 'SEC("maps") appears only in a comment');
  assert.equal(source.find(/not a comment/), 4, 'a // inside a string literal is not a comment');
  assert.equal(source.find(/return 2;/), 9);
  assert.equal(source.find(/XDP_PASS/), undefined, 'text inside a /* */ after code is a comment');
  assert.equal(source.line(1), text.split('\n')[0], 'the lines themselves keep their comments');
});
