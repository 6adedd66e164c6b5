// Opens and closes `count` TCP connections to host:port one after another; prints the mean time per connect.
'use strict';
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const [host, port, count] = process.argv.slice(2);
(async () => {
  const n = Number(count);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => {
      const s = net.connect({ host, port: Number(port) }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  }
  console.log(JSON.stringify({ usPerConnect: ((performance.now() - start) * 1000) / n }));
})().catch((err) => {
  console.log(JSON.stringify({ error: err.message }));
  process.exit(1);
});
