import type { SessionKernel } from './session-kernel';
import { SessionHost, type SessionHostConfig } from './session-host';

/**
 * `agent --session-host <id>`: receive the session's configuration from the agent that forked this
 * process, listen on the session socket, say ready, and live on alone (detached) until the session ends.
 */
export function runSessionHost(id: string, kernel: () => SessionKernel): void {
  process.once('message', (config: SessionHostConfig) => {
    if (config.id !== id) {
      process.send?.({ error: 'session id mismatch' });
      process.exit(1);
    }
    const host = new SessionHost(config, kernel());
    host.listen().then(
      () => process.send?.({ ready: true }),
      (err: Error) => {
        process.send?.({ error: err.message });
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => undefined);
}
