import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

/** The kernel's range for ephemeral ports (net.ipv4.ip_local_port_range). */
function ephemeralRange(): [number, number] {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return [low!, high!];
}

/** Whether 127.0.0.1:port can be listened on right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for a server another process starts next.
 * It lies below the ephemeral range: a port the kernel handed out (listen on port 0) could be taken in the
 * meantime as the local port of some test's outgoing connection.
 */
export async function freeLoopbackPort(): Promise<number> {
  const [low] = ephemeralRange();
  if (low - LOWEST < 1000) throw new Error(`net.ipv4.ip_local_port_range starts at ${low}: leave room below it for test servers (e.g. 32768 60999)`);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (low - LOWEST));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${low} after 100 tries`);
}
