import type { Locator, Page } from 'playwright-core';
import { poll } from './poll';
import { escapeRegExp } from './regexp';

const OPEN_TIMEOUT_MS = 5_000;
const FILTER_TIMEOUT_MS = 2_000;
/** One fill or key press into the box: it fails fast when the box closed under it. */
const ACTION_TIMEOUT_MS = 2_000;

/** What to put in the quick access box: the key that opens it, the box's text and the row to pick among those it lists. */
export interface QuickAccessEntry {
  /** 'F1' for the command palette (its text starts with '>'), 'Control+P' for Quick Open. */
  key: 'F1' | 'Control+P';
  value: string;
  /** The row to pick, inside the quick input widget, by its accessible name. */
  row: RegExp;
  what: string;
}

/**
 * Open the quick access box, put the entry's text in it, wait until the filter lists the wanted row, move
 * the focus down to it and press Enter, as a person does: Enter takes the focused row, the first in the
 * filter's order, and that is not always the wanted one (the palette orders "View: Close All Editor
 * Groups" before "View: Close Editor" for the text "View: Close Editor"). The box closes when it loses
 * the focus, and a webview whose tab was just clicked takes the focus a moment later, so a box that
 * closed is opened again, also under a fill or key press, and the text is filled in (not typed: keys
 * typed while the webview has the focus would go there).
 */
export async function pickQuickAccessRow(page: Page, entry: QuickAccessEntry, timeoutMs: number): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  const box = quickInput.locator('input.input').first();
  const rows = quickInput.locator('.monaco-list-row');
  const row = rows.and(page.getByLabel(entry.row)).first();
  const focused = (): Promise<boolean> => row.evaluate((r) => r.classList.contains('focused')).catch(() => false);
  if (await quickInput.isVisible()) {
    // whatever quick input is open (a pick, a dialog) is not the one to use
    await page.keyboard.press('Escape');
    await quickInput.waitFor({ state: 'hidden', timeout: OPEN_TIMEOUT_MS });
  }
  let state = 'never opened';
  const attempt = async (): Promise<true | undefined> => {
    if (!(await quickInput.isVisible())) {
      await page.keyboard.press(entry.key);
      await quickInput.waitFor({ state: 'visible', timeout: OPEN_TIMEOUT_MS });
    }
    if ((await box.inputValue({ timeout: ACTION_TIMEOUT_MS })) !== entry.value) await box.fill(entry.value, { timeout: ACTION_TIMEOUT_MS });
    const listed = await row.waitFor({ timeout: FILTER_TIMEOUT_MS }).then(() => true, () => false);
    for (let moves = await rows.count(); listed && moves > 0 && !(await focused()); moves--) await box.press('ArrowDown', { timeout: ACTION_TIMEOUT_MS });
    if (listed && (await focused())) {
      await box.press('Enter', { timeout: ACTION_TIMEOUT_MS });
      return true;
    }
    state = (await quickInput.isVisible()) ? `the box shows "${await box.inputValue({ timeout: ACTION_TIMEOUT_MS })}" over the rows ${JSON.stringify(await rowsOf(quickInput))}` : 'the box closed';
    return undefined;
  };
  await poll(
    // the box may close under any step (the focus moved away): open it again and start over
    () => attempt().catch((err: unknown) => void (state = `the box closed mid-step: ${String(err).split('\n')[0]}`)),
    timeoutMs,
    () => `${entry.what} not picked within ${timeoutMs} ms: ${state}`,
  );
}

async function rowsOf(quickInput: Locator): Promise<string[]> {
  return quickInput.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => `${r.classList.contains('focused') ? 'focused: ' : ''}${r.getAttribute('aria-label') ?? ''}`));
}

/** The command palette entry that runs the command with this title. */
export function commandEntry(title: string): QuickAccessEntry {
  return {
    key: 'F1',
    value: `>${title}`,
    // a command's row is its title, then its key binding when it has one: "View: Close Editor, Control+W"
    row: new RegExp(`^${escapeRegExp(title)}(?:,|$)`),
    what: `command "${title}"`,
  };
}
