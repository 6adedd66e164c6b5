/**
 * Child-process helper for the big-log test: verify an object with a log buffer large enough for the
 * whole level-1 log and write that log to a file, so the test process never holds it in memory.
 * argv: <object> <out-file> <log-size-bytes>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { verifyObject } from '../../src/index';

const [object, out, size] = process.argv.slice(2);
const verdict = verifyObject(readFileSync(object!), { logSize: Number(size) }).programs[0]!;
writeFileSync(out!, verdict.log ?? '');
process.stdout.write(JSON.stringify({ verdict: verdict.verdict, truncated: verdict.logTruncated ?? false }));
