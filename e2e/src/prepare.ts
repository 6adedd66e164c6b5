/** `node e2e/dist/src/prepare.js`: install the end-to-end tests' toolchain into the cache ahead of time. */
import { cacheDir, CODE_SERVER_VERSION, ensureToolchain, NODE_VERSION } from './install';

const started = Date.now();
ensureToolchain((line) => console.log(line)).then(
  (toolchain) => {
    console.log(`code-server ${CODE_SERVER_VERSION} on Node ${NODE_VERSION} and ${toolchain.chromium} ready in ${cacheDir()} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
