import type { FrameLocator, Locator, Page } from 'playwright-core';
import { commandEntry, pickQuickAccessRow } from './quick-access';
import { poll } from './poll';
import { escapeRegExp } from './regexp';

const DEFAULT_TIMEOUT_MS = 30_000;

/** One question of a command: the quick input's title, and either text for an input box or a row to pick. */
export interface CommandStep {
  title: RegExp;
  input?: string;
  /** The filter to type into a quick pick; `row` the focused row it must leave (default: the filter's text). */
  pick?: string;
  row?: RegExp;
}

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

  /**
   * Run a command that asks its questions in quick inputs, answering each as a person does: wait for the
   * step's title, then type the answer into an input box or pick the row of a quick pick. A quick input
   * closes when it loses the focus (a webview whose tab was shown takes the focus a moment later), and the
   * command then stops without doing anything: the whole command is started again, up to three times.
   * Nothing is retried after the last step's answer.
   */
  async runCommandWithAnswers(title: string, steps: readonly CommandStep[]): Promise<void> {
    const STEP_TIMEOUT_MS = 10_000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startCommand(title);
        for (const step of steps) {
          await this.waitForQuickInput(step.title, STEP_TIMEOUT_MS);
          if (step.input !== undefined) {
            await this.quickInput.locator('input.input').first().fill(step.input, { timeout: 2_000 });
            await this.quickInput.locator('input.input').first().press('Enter', { timeout: 2_000 });
          } else {
            await this.quickInput.locator('input.input').first().fill(step.pick!, { timeout: 2_000 });
            await this.quickInput.locator('.monaco-list-row.focused').filter({ hasText: step.row ?? new RegExp(escapeRegExp(step.pick!)) }).first().waitFor({ timeout: 5_000 });
            await this.quickInput.locator('input.input').first().press('Enter', { timeout: 2_000 });
          }
        }
        return;
      } catch (err) {
        if (attempt >= 3 || (await this.quickInput.isVisible())) throw err;
      }
    }
  }

  /** Open F1 and run a command by its title without waiting for the palette to go (the command may show its own quick input). */
  async startCommand(title: string): Promise<void> {
    await pickQuickAccessRow(this.page, commandEntry(title), DEFAULT_TIMEOUT_MS);
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
  async chooseQuickItem(filter: string, row: RegExp = new RegExp(escapeRegExp(filter))): Promise<void> {
    await this.page.keyboard.type(filter);
    await this.quickInput.locator('.monaco-list-row.focused').filter({ hasText: row }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /**
   * Type a filter into the quick pick, then go down the rows it leaves (arrow keys) until the focused one
   * matches `row`, and press Enter: for a list where several rows fit the filter and only one is meant.
   */
  async pickQuickItem(filter: string, row: RegExp, timeoutMs = 10_000): Promise<string> {
    await this.page.keyboard.type(filter);
    const focused = this.quickInput.locator('.quick-input-list .monaco-list-row.focused').first();
    await focused.waitFor({ timeout: timeoutMs });
    const rows = (await this.quickItems()).length;
    const seen: string[] = [];
    for (let i = 0; i < rows; i++) {
      const text = (await focused.innerText({ timeout: timeoutMs })).replace(/\s+/g, ' ').trim();
      if (row.test(text)) {
        await this.page.keyboard.press('Enter');
        return text;
      }
      seen.push(text);
      const index = await focused.getAttribute('data-index', { timeout: timeoutMs });
      await this.page.keyboard.press('ArrowDown');
      await this.quickInput.locator(`.quick-input-list .monaco-list-row.focused:not([data-index="${index}"])`).first().waitFor({ timeout: timeoutMs });
    }
    throw new Error(`no row of the quick pick filtered by "${filter}" matches ${row}; the rows: ${JSON.stringify(seen)}`);
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

  /**
   * Answer VS Code's simple file dialog: type the path, then press its accept button (`button`, the
   * dialog's openLabel) until the dialog closes: on a folder's path the first press may only open the
   * folder in the dialog (as Enter may), and a person presses again. The dialog fills in its starting
   * folder asynchronously, so the path is typed once that happened and pressed once it stayed.
   */
  async answerFileDialog(path: string, button: string, presses = 3): Promise<void> {
    const input = this.quickInput.locator('input.input').first();
    await input.waitFor({ state: 'visible' });
    let value = '';
    await poll(async () => ((value = await input.inputValue()) !== '' ? true : undefined), 10_000, () => 'the file dialog never showed its starting folder');
    let steady = 0;
    await poll(
      async () => {
        value = await input.inputValue();
        if (value !== path) {
          await input.fill(path);
          steady = 0;
          return undefined;
        }
        return ++steady >= 3 ? true : undefined;
      },
      10_000,
      () => `the file dialog's path box shows "${value}", not "${path}"`,
      200,
    );
    for (let i = 0; i < presses; i++) {
      await this.quickInput.getByRole('button', { name: button }).click({ timeout: 5000 });
      const closed = await this.quickInput.waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false);
      if (closed) return;
    }
    throw new Error(`the file dialog is still open after ${presses} presses of "${button}" with ${path}: ${await input.inputValue()}`);
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
    return this.page.locator('.notification-toast-container, .notifications-list-container .monaco-list-row').filter({ hasText: text }).filter({ visible: true }).first();
  }

  /** Wait for a notification toast whose text matches; resolves with its text. */
  async waitForNotification(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const toast = this.notification(text);
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await toast.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Click a button (e.g. Cancel, Open Settings) of the shown notification whose text matches (a toast or a row of the Notifications list). */
  async clickNotificationButton(text: RegExp, button: string, timeoutMs = 10_000): Promise<void> {
    await this.notification(text).getByRole('button', { name: button, exact: true }).click({ timeout: timeoutMs });
  }

  /** Open the Notifications list (F1 "Notifications: Show Notifications") and return its rows' texts. */
  async notificationList(): Promise<string[]> {
    await this.startCommand('Notifications: Show Notifications');
    const center = this.page.locator('.notifications-center');
    await center.waitFor({ state: 'visible', timeout: 10_000 });
    return center.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  }

  /** What the Settings editor shows: its search query and the titles of the settings it lists ("Category: Title"). */
  async settingsEditor(): Promise<{ query: string; settings: string[] }> {
    const editor = this.page.locator('.settings-editor').filter({ visible: true }).first();
    const query = (await editor.locator('.settings-header .suggest-input-container .view-lines').innerText({ timeout: 1000 }).catch(() => '')).replace(/\u00a0/g, ' ').trim();
    const settings = await editor.locator('.setting-item-contents .setting-item-title').evaluateAll((titles) => titles.map((t) => (t as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
    return { query, settings };
  }

  /** Wait until the Settings editor shows what `matches` accepts; resolves with what it shows. */
  async waitForSettingsEditor(matches: (shown: { query: string; settings: string[] }) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ query: string; settings: string[] }> {
    let seen = { query: '', settings: [] as string[] };
    return poll(
      async () => (matches((seen = await this.settingsEditor())) ? seen : undefined),
      timeoutMs,
      () => `the Settings editor did not show what was expected within ${timeoutMs} ms; it shows: ${JSON.stringify(seen)}`,
      250,
    );
  }

  /** Close the modal editor (the Settings editor opens in one) with its Close button. */
  async closeModalEditor(timeoutMs = 10_000): Promise<void> {
    await this.page.getByRole('button', { name: /^Close Modal Editor/ }).click({ timeout: timeoutMs });
    await this.page.locator('.modal-editor-part').waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** The texts of the notification toasts shown now. */
  async notificationTexts(): Promise<string[]> {
    return this.page.locator('.notification-toast-container').evaluateAll((toasts) => toasts.map((t) => (t as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  }

  /** Wait until no notification toast's text matches. */
  async waitForNoNotification(text: RegExp, timeoutMs: number): Promise<void> {
    await this.notification(text).waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Close every notification toast (Escape on each would also close quick inputs). */
  async clearNotifications(): Promise<void> {
    const toasts = this.page.locator('.notification-toast-container').filter({ visible: true });
    // a toast may close itself while we go: a short timeout, not the default 30 s, for one that went
    for (const close of await toasts.locator('.codicon-notifications-clear').all()) await close.click({ timeout: 2000 }).catch(() => undefined);
    const gone = (timeout: number): Promise<boolean> => toasts.first().waitFor({ state: 'hidden', timeout }).then(() => true, () => false);
    if (await gone(1000)) return;
    // a toast whose close button did not take the click goes with the command (one with a running progress stays)
    await this.startCommand('Notifications: Clear All Notifications');
    await gone(5000);
  }

  /** Set the log level of an output channel (or logger) with "Developer: Set Log Level...", e.g. ('eBPF Traffic Studio', 'Trace'). */
  async setLogLevel(channel: string, level: string): Promise<void> {
    await this.startCommand('Developer: Set Log Level...');
    await this.chooseQuickItem(channel);
    // the levels' list (the first list has "Trace All", not "Trace")
    await this.waitForQuickItem(new RegExp(`^${escapeRegExp(level)}$`));
    await this.chooseQuickItem(level);
    await this.quickInput.waitFor({ state: 'hidden' });
  }

  /** Click the editor tab whose title starts with `title` (a webview's too) and wait until it is the selected one. */
  async showEditorTab(title: string, timeoutMs = 10_000): Promise<void> {
    const name = new RegExp(`^${escapeRegExp(title)}`);
    await this.page.getByRole('tab', { name }).first().click({ timeout: timeoutMs });
    await this.page.getByRole('tab', { name, selected: true }).first().waitFor({ timeout: timeoutMs });
  }

  /** Close an editor by the close button on its tab, as a person does, and wait until the tab is gone. */
  async closeEditorTab(title: string, timeoutMs = 10_000): Promise<void> {
    const tab = this.page.getByRole('tab', { name: new RegExp(`^${escapeRegExp(title)}`) }).first();
    await tab.hover({ timeout: timeoutMs });
    await tab.getByRole('button', { name: /^Close/ }).click({ timeout: timeoutMs });
    await tab.waitFor({ state: 'detached', timeout: timeoutMs });
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

  /** Move the mouse onto the status bar entry whose text matches and return the text of the tooltip that appears. */
  async statusBarTooltip(text: RegExp, timeoutMs = 10_000): Promise<string> {
    // matched on the entry's text as statusBarTexts reads it (an icon adds to the element's raw text)
    const items = this.page.locator('.statusbar-item');
    const texts = await items.evaluateAll((elements) => elements.map((e) => (e as HTMLElement).innerText.trim()));
    const index = texts.findIndex((t) => text.test(t));
    if (index < 0) throw new Error(`no status bar entry matching ${text}; entries: ${JSON.stringify(texts.filter((t) => t !== ''))}`);
    await items.nth(index).hover({ timeout: timeoutMs });
    const tooltip = this.page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ visible: true }).first();
    await tooltip.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await tooltip.innerText()).replace(/\s+/g, ' ').trim();
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
