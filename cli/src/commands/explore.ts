import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { EngineError, verifySource } from '@ebpf-studio/server';
import { explorerFromLog, explorerFromReport, type ExplorerData } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { EXIT, UsageFailure } from '../exit-codes';
import { COMPILE_OPTIONS, compileOptionsFrom } from '../options';

export const EXPLORE_HELP = `usage: ebpf-studio explore FILE.bpf.c [options]
       ebpf-studio explore --log FILE.log [FILE.bpf.c] [options]

Verify with a level-2 verifier log and open the Verifier Explorer: the source with its diagnostics
beside the verified instructions, with the registers and stack after each one.
  --log FILE           explore a saved verifier log (any kernel) instead of verifying; with FILE.bpf.c
                       its instructions are placed on that source
  --port P             listen on 127.0.0.1:P (default: a free port)
  --no-open            print the URL without opening a browser
  --set NAME=VALUE, --caps LIST, --clang PATH, -I DIR, -D DEF, --cflag FLAG, --[no-]vmlinux   as for verify

Serves until Ctrl-C. exit: 0 after Ctrl-C; 2 could not run`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Monaco styles its widgets inline and starts its workers from blob: URLs; nothing else is allowed. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:";

/** Fast compression: the data of a long log is tens of MB, and the browser is on this machine. */
const GZIP = { level: 1 };

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

export async function exploreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      log: { type: 'string' },
      port: { type: 'string' },
      'no-open': { type: 'boolean', default: false },
      ...COMPILE_OPTIONS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(EXPLORE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageFailure('explore takes one source file');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageFailure('--port takes a port number (0-65535)');
  const assets = await loadAssets(webAssetsDir());
  const file = positionals[0];
  let data: ExplorerData;
  if (values.log !== undefined) {
    const source = file === undefined ? undefined : { file: resolve(file), text: await readText(file) };
    data = explorerFromLog(await readText(values.log), resolve(values.log), source);
  } else {
    if (file === undefined) throw new UsageFailure('explore needs a file: ebpf-studio explore FILE.bpf.c (or --log FILE.log)');
    const text = await readText(file);
    const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
    try {
      const info = await agent.info();
      if (info.problems.length > 0) throw new EngineError(`cannot verify on this machine: ${info.problems.join('; ')}`);
      const report = await verifySource(text, file, {
        agent,
        logLevel: 2,
        ...compileOptionsFrom(values),
      });
      data = explorerFromReport(report, text);
    } finally {
      agent.dispose();
    }
  }
  for (const p of data.programs) console.log(`${p.name}: ${p.verdict}, ${p.instructions.length} instructions in the log`);
  if (data.programs.length === 0) console.log('no program to explore: the diagnostics are shown on the source');
  const server = await listen(port, assets, data);
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/${data.source === undefined ? '#/log' : ''}`;
  console.log(`Verifier Explorer: ${url}  (Ctrl-C to stop)`);
  if (!values['no-open']) openBrowser(url);
  await untilSignal(server);
  return EXIT.ok;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageFailure(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** web/dist, seen from the bundled CLI (dist/ebpf-studio.js, as in the VSIX) or from the source tree (cli/dist/src/commands). */
function webAssetsDir(): string {
  const candidates = [join(__dirname, '..', 'web', 'dist'), join(__dirname, '..', '..', '..', '..', 'web', 'dist')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new EngineError(`the Verifier Explorer's web assets are not built (npm run build -w web); looked in ${candidates.join(', ')}`);
  return found;
}

/** The files of the assets directory (not its subdirectories), each also gzipped once. */
async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const type = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const body = await readFile(join(dir, entry.name));
    assets.set(`/${entry.name}`, { type, body, gzip: gzipSync(body, GZIP) });
  }
  return assets;
}

function listen(port: number, assets: Map<string, Asset>, data: ExplorerData): Promise<Server> {
  const json = Buffer.from(JSON.stringify(data));
  let api: Asset | undefined;
  const server = createServer((req, res) => {
    // Only this machine's browser: 127.0.0.1, and a Host header naming it (no DNS rebinding).
    const host = req.headers.host ?? '';
    const { port: actual } = server.address() as { port: number };
    if (host !== `127.0.0.1:${actual}` && host !== `localhost:${actual}`) return send(res, req, 403, { type: CONTENT_TYPES['.txt']!, body: Buffer.from('forbidden host\n') });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, req, 405, { type: CONTENT_TYPES['.txt']!, body: Buffer.from('GET only\n') });
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/explorer') {
      api ??= { type: 'application/json; charset=utf-8', body: json, gzip: gzipSync(json, GZIP) };
      return send(res, req, 200, api);
    }
    const asset = assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return send(res, req, 404, { type: CONTENT_TYPES['.txt']!, body: Buffer.from('not found\n') });
    return send(res, req, 200, asset);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new UsageFailure(`port ${port} is in use (try another --port, or none for a free one)`) : err));
    server.listen(port, '127.0.0.1', () => resolvePromise(server));
  });
}

function send(res: ServerResponse, req: IncomingMessage, status: number, asset: { type: string; body: Buffer; gzip?: Buffer }): void {
  const gzip = asset.gzip !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? asset.gzip! : asset.body;
  res.writeHead(status, {
    'Content-Type': asset.type,
    'Content-Length': body.length,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    Vary: 'Accept-Encoding',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => console.error(`could not start ${command}: open the URL in a browser`));
  child.unref();
}

/** Serves until Ctrl-C (or SIGTERM), then closes every connection. */
function untilSignal(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolvePromise());
      server.closeAllConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
