// Streaming: chunk boundaries anywhere, rotating-buffer tails, the async-iterable entry point.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogParser, parseVerifierLog, parseVerifierLogStream, type ParsedLog } from '../src/verifier-log';

const LOG_DIR = join(__dirname, '..', '..', 'test', 'data', 'logs');
const LOGS = readdirSync(LOG_DIR).filter((f) => f.endsWith('.log'));

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function parseChunked(bytes: Buffer, sizes: (n: number) => number): ParsedLog {
  const parser = createLogParser();
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + sizes(97);
    parser.write(bytes.subarray(at, at + size));
    at += size;
  }
  return parser.end();
}

test('chunking invariance: byte chunks of random sizes and of 1 byte', () => {
  for (const name of LOGS) {
    const bytes = readFileSync(join(LOG_DIR, name));
    const whole = parseVerifierLog(bytes.toString('utf8'));
    for (const seed of [1, 7, 1234]) {
      assert.deepEqual(parseChunked(bytes, random(seed)), whole, `${name}, seed ${seed}`);
    }
    assert.deepEqual(parseChunked(bytes, () => 0), whole, `${name}, 1-byte chunks`);
  }
});

test('chunking invariance: text chunks split anywhere in ASCII logs', () => {
  const text = readFileSync(join(LOG_DIR, 'ref-leak.l2.log'), 'latin1');
  const whole = parseVerifierLog(text);
  const parser = createLogParser();
  const next = random(99);
  for (let at = 0; at < text.length; ) {
    const size = 1 + next(40);
    parser.write(text.slice(at, at + size));
    at += size;
  }
  assert.deepEqual(parser.end(), whole);
});

test('a UTF-8 sequence split between byte chunks is decoded whole', () => {
  const bytes = readFileSync(join(LOG_DIR, 'map-null.l1.log'));
  const arrow = bytes.indexOf(Buffer.from('→'));
  assert.ok(arrow > 0);
  const parser = createLogParser();
  parser.write(bytes.subarray(0, arrow + 1));
  parser.write(bytes.subarray(arrow + 1, arrow + 2));
  parser.write(bytes.subarray(arrow + 2));
  assert.equal(parser.end().failingSource?.text, '*value += 1; /* compteur de paquets reçus → +1 */');
});

test('a rotating-log tail cut mid-line is truncated and still has the error', () => {
  const text = readFileSync(join(LOG_DIR, 'ref-leak.l2.log'), 'utf8');
  const whole = parseVerifierLog(text);
  assert.equal(whole.truncated, false);
  for (const cut of [1, 37, Math.floor(text.length / 2), text.indexOf('\nfrom 18 to 23') + 5]) {
    const tail = parseVerifierLog(text.slice(cut));
    assert.equal(tail.truncated, true, `cut at ${cut}`);
    assert.equal(tail.error, 'Unreleased reference id=2 alloc_insn=5');
    assert.equal(tail.failingInsn?.idx, 24);
    assert.equal(tail.unreleasedRef?.allocInsn, 5);
    assert.equal(tail.stats?.insnsProcessed, 26);
  }
});

test('a tail cut exactly at a line boundary is judged by its first line', () => {
  const text = readFileSync(join(LOG_DIR, 'map-null.l1.log'), 'utf8');
  const lines = text.split('\n');
  // From "4: (18) r1 = ..." on: a complete log starts at instruction 0.
  assert.equal(parseVerifierLog(lines.slice(6).join('\n')).truncated, true);
  // From the annotation of instruction 4: the first instruction is not 0.
  const annotated = parseVerifierLog(lines.slice(5).join('\n'));
  assert.equal(annotated.truncated, true);
  assert.equal(annotated.error, "R0 invalid mem access 'map_value_or_null'");
  // The annotation of instruction 0 opens a complete log even without the initial state line.
  assert.equal(parseVerifierLog(lines.slice(1).join('\n')).truncated, false);
});

test('logs that are complete from their first line', () => {
  for (const name of LOGS.filter((n) => !n.includes('.tail.'))) {
    assert.equal(parseVerifierLog(readFileSync(join(LOG_DIR, name), 'utf8')).truncated, false, name);
  }
});

test('parseVerifierLogStream reads a file stream', async () => {
  const path = join(LOG_DIR, 'loop-complexity.l1.tail.log');
  const streamed = await parseVerifierLogStream(createReadStream(path, { highWaterMark: 1000 }));
  assert.deepEqual(streamed, parseVerifierLog(readFileSync(path, 'utf8')));
  assert.equal(streamed.tooLarge, true);
  assert.equal(streamed.truncated, true);
});

test('the tail keeps the last records; errorLines are bounded', () => {
  const text = readFileSync(join(LOG_DIR, 'loop-complexity.l1.head.log'), 'utf8');
  const parser = createLogParser({ tailRecords: 10, maxErrorLines: 2 });
  parser.write(text);
  parser.write('infinite loop detected at insn 24\nsecond\nthird\nfourth\n');
  const log = parser.end();
  assert.equal(log.tail.length, 10);
  assert.deepEqual(log.tail, parseVerifierLog(text).tail.slice(-10));
  assert.deepEqual(log.errorLines, ['infinite loop detected at insn 24', 'second']);
  assert.equal(log.infiniteLoopInsn, 24);
});

test('a NUL ends the log (a C buffer passed whole)', () => {
  const text = readFileSync(join(LOG_DIR, 'pkt-bounds.l1.log'), 'utf8');
  const parser = createLogParser();
  parser.write(Buffer.concat([Buffer.from(text), Buffer.alloc(100), Buffer.from('garbage\n')]));
  assert.deepEqual(parser.end(), { ...parseVerifierLog(text), byteCount: Buffer.byteLength(text) + 108 });
});
