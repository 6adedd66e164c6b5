import type { FrameLocator, Locator, Page } from 'playwright-core';
import { poll } from './poll';

const DEFAULT_TIMEOUT_MS = 30_000;

/** A row of a quick pick: what it shows on its lines (label, description, detail). */
export interface QuickItem {
  text: string;
  checked?: boolean;
}

/**
 * The workbench parts beyond the editor that a person uses: the quick input (quick picks, input boxes,
 * the simple file dialog), notifications, views of the side bar and webviews. Reads only the screen.
 */
export class WorkbenchUi {
  constructor(readonly page: Page) {}

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Open F1 and run a command by its title without waiting for the palette to go (the command may show its own quick input). */
  async startCommand(title: string): Promise<void> {
    if (await this.quickInput.isVisible()) await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    await this.quickInput.waitFor({ state: 'visible' });
    await this.page.keyboard.type(title);
    await this.quickInput.locator('.monaco-list-row.focused', { hasText: title }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /** Wait until a quick input with this title is shown; resolves with the title. */
  async waitForQuickInput(title: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const header = this.quickInput.locator('.quick-input-title').filter({ hasText: title });
    await header.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await header.innerText()).trim();
  }

  /** The rows the quick pick lists now. */
  async quickItems(): Promise<QuickItem[]> {
    return this.quickInput.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) =>
      rows.map((r) => {
        const box = r.querySelector('input[type=checkbox]') as HTMLInputElement | null;
        return { text: (r as HTMLElement).innerText.replace(/\s+/g, ' ').trim(), ...(box ? { checked: box.checked } : {}) };
      }),
    );
  }

  /** Wait until the quick pick lists a row whose text matches; resolves with its text. */
  async waitForQuickItem(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    let seen: QuickItem[] = [];
    const item = await poll(
      async () => (seen = await this.quickItems()).find((i) => text.test(i.text)),
      timeoutMs,
      () => `no quick pick row matching ${text} within ${timeoutMs} ms; rows: ${JSON.stringify(seen)}`,
    );
    return item.text;
  }

  /** Type a filter into the quick pick and press Enter once the focused row matches `row`. */
  async chooseQuickItem(filter: string, row: RegExp = new RegExp(filter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))): Promise<void> {
    await this.page.keyboard.type(filter);
    await this.quickInput.locator('.monaco-list-row.focused').filter({ hasText: row }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /** In a multi-select quick pick: tick the rows whose text matches, then accept with OK. */
  async checkQuickItems(rows: readonly RegExp[]): Promise<void> {
    for (const row of rows) {
      await this.waitForQuickItem(row);
      await this.quickInput.locator('.quick-input-list .monaco-list-row').filter({ hasText: row }).first().locator('.monaco-checkbox, input[type=checkbox]').first().click();
    }
    await this.quickInput.getByRole('button', { name: 'OK' }).click();
  }

  /** Answer an input box (or the simple file dialog's path box): replace its value, then Enter. */
  async answerInput(value: string): Promise<void> {
    const input = this.quickInput.locator('input.input').first();
    await input.waitFor({ state: 'visible' });
    await input.fill(value);
    await this.page.keyboard.press('Enter');
  }

  /** Wait until the input box's validation message matches (it is computed as the user types); resolves with it. */
  async waitForInputMessage(text: RegExp, timeoutMs = 10_000): Promise<string> {
    let seen = '';
    return poll(
      async () => {
        seen = (await this.quickInput.locator('.quick-input-message').innerText().catch(() => '')).trim();
        return text.test(seen) ? seen : undefined;
      },
      timeoutMs,
      () => `the input box's message is "${seen}", not ${text}, after ${timeoutMs} ms`,
    );
  }

  private notification(text: RegExp): Locator {
    return this.page.locator('.notification-toast-container, .notifications-list-container .monaco-list-row').filter({ hasText: text }).first();
  }

  /** Wait for a notification toast whose text matches; resolves with its text. */
  async waitForNotification(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const toast = this.notification(text);
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await toast.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** The texts of the notification toasts shown now. */
  async notificationTexts(): Promise<string[]> {
    return this.page.locator('.notification-toast-container').evaluateAll((toasts) => toasts.map((t) => (t as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  }

  /** Click a button (e.g. Cancel) of the notification toast whose text matches. */
  async clickNotificationButton(text: RegExp, button: string, timeoutMs = 5000): Promise<void> {
    await this.notification(text).getByRole('button', { name: button }).click({ timeout: timeoutMs });
  }

  /** Wait until no notification toast's text matches. */
  async waitForNoNotification(text: RegExp, timeoutMs: number): Promise<void> {
    await this.notification(text).waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Close every notification toast (Escape on each would also close quick inputs). */
  async clearNotifications(): Promise<void> {
    // a toast may close itself while we go: a short timeout, not the default 30 s, for one that went
    for (const close of await this.page.locator('.notification-toast-container .codicon-notifications-clear').all()) await close.click({ timeout: 2000 }).catch(() => undefined);
  }

  /** Show a view container of the activity bar by its title (clicking it only when it is not shown already). */
  async showViewContainer(title: string): Promise<void> {
    const item = this.page.locator('.activitybar .action-item').filter({ has: this.page.locator(`a[aria-label^="${title}"]`) }).first();
    await item.waitFor();
    if ((await item.getAttribute('class'))?.includes('checked')) return;
    await item.click();
  }

  /** The rows of a side-bar view (by its title), as their visible text. */
  async viewRows(viewTitle: string): Promise<string[]> {
    const pane = this.page.locator('.pane').filter({ has: this.page.locator('.pane-header', { hasText: viewTitle }) }).first();
    return pane.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  }

  /** Wait until the view lists rows for which `matches` holds; resolves with all its rows. */
  async waitForViewRows(viewTitle: string, matches: (rows: string[]) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    let seen: string[] = [];
    return poll(
      async () => (matches((seen = await this.viewRows(viewTitle))) ? seen : undefined),
      timeoutMs,
      () => `view "${viewTitle}" did not show the expected rows within ${timeoutMs} ms; rows: ${JSON.stringify(seen)}`,
    );
  }

  /** The document of the webview whose editor tab is active (VS Code nests it in two iframes). */
  activeWebview(): FrameLocator {
    return this.page.locator('iframe.webview.ready').filter({ visible: true }).last().contentFrame().locator('#active-frame').contentFrame();
  }

  /** Wait until the active webview's text matches; resolves with its text. */
  async waitForWebviewText(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    let seen = '';
    return poll(
      async () => {
        seen = await this.activeWebview().locator('body').innerText({ timeout: 1000 }).catch(() => '');
        return text.test(seen) ? seen : undefined;
      },
      timeoutMs,
      () => `the webview did not show ${text} within ${timeoutMs} ms; it shows: ${seen.slice(0, 2000)}`,
      250,
    );
  }

  /** The status bar entries' texts. */
  async statusBarTexts(): Promise<string[]> {
    return this.page.locator('.statusbar-item').evaluateAll((items) => items.map((i) => (i as HTMLElement).innerText.trim()).filter((t) => t !== ''));
  }

  /** Wait until a status bar entry's text matches; resolves with it. */
  async waitForStatusBar(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    let seen: string[] = [];
    return poll(
      async () => (seen = await this.statusBarTexts()).find((t) => text.test(t)),
      timeoutMs,
      () => `no status bar entry matching ${text} within ${timeoutMs} ms; entries: ${JSON.stringify(seen)}`,
    );
  }

  /**
   * The active terminal's visible rows as text. Needs the DOM renderer (setting
   * `terminal.integrated.gpuAcceleration: "off"`): the WebGL renderer draws on a canvas.
   */
  async terminalText(): Promise<string> {
    const rows = this.page.locator('.terminal-wrapper.active .xterm-rows').first();
    return (await rows.innerText({ timeout: 1000 }).catch(() => '')).replace(/\u00a0/g, ' ');
  }

  /** Wait until the active terminal shows text that matches; resolves with all of its visible text. */
  async waitForTerminalText(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    let seen = '';
    return poll(
      async () => (text.test((seen = await this.terminalText())) ? seen : undefined),
      timeoutMs,
      () => `the terminal did not show ${text} within ${timeoutMs} ms; it shows: ${seen.slice(-2000)}`,
      250,
    );
  }

  /** Whether a terminal of this name is open (its tab in the terminal panel's list, or the single terminal's title). */
  async terminalOpen(name: RegExp): Promise<boolean> {
    const titles = await this.page.locator('.terminal-tabs-entry, .single-terminal-tab, .terminal-tab').allInnerTexts().catch(() => []);
    return titles.some((t) => name.test(t));
  }

  /** Wait until the explorer shows an item of this name (expanding nothing). */
  async waitForExplorerItem(name: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.page.locator('.explorer-folders-view').getByRole('treeitem', { name, exact: true }).first().waitFor({ timeout: timeoutMs });
  }
}
