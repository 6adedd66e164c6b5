import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stopGroup, trackGroup } from './cleanup';

/** Flags for a headless Chromium in a container (no sandbox, GPU, shared memory or background traffic). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface HeadlessBrowser {
  page: Page;
  close(): Promise<void>;
}

/**
 * Launch the machine's Chromium headless in its own process group and open one page. Its XDG and
 * temporary directories (crash reports, dconf, singleton socket) go to `home`, a directory of the
 * session, so even a killed browser leaves nothing behind.
 */
export async function openBrowser(executablePath: string, home: string, viewport = { width: 1600, height: 1000 }): Promise<HeadlessBrowser> {
  const dirs = { XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data'), TMPDIR: join(home, 'tmp') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const server = await chromium.launchServer({ executablePath, headless: true, args: CHROMIUM_FLAGS, env: { ...process.env, ...dirs } });
  const pid = server.process().pid;
  if (pid !== undefined) trackGroup(pid);
  let browser: Browser | undefined;
  try {
    browser = await chromium.connect(server.wsEndpoint());
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    return {
      page,
      close: async () => {
        await browser?.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        if (pid !== undefined) await stopGroup(pid);
      },
    };
  } catch (err) {
    await server.close().catch(() => undefined);
    if (pid !== undefined) await stopGroup(pid);
    throw err;
  }
}
