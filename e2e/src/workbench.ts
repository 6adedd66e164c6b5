import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { commandEntry, pickQuickAccessRow } from './quick-access';
import { poll } from './poll';
import { escapeRegExp } from './regexp';

/** A row of the Problems panel. */
export interface Problem {
  severity: string;
  line: number;
  column: number;
  /** What the row shows: message, source and code, position. */
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Matches an accessible name that is the file name, possibly followed by ", <state>" (", preview"). */
function nameOf(fileName: string): RegExp {
  return new RegExp(`^${escapeRegExp(fileName)}(?:,|$)`);
}

/**
 * Drives the VS Code workbench in the page the way a person does: explorer clicks, Quick Open, F1,
 * the Problems panel, mouse hovers and Ctrl+. — and reads back only what is on the screen.
 */
export class Workbench {
  constructor(
    readonly page: Page,
    private readonly artifactsDir: string,
    private readonly name: string,
  ) {}

  private get activeEditor(): Locator {
    // the group keeps the editors it hid in the DOM: the active one is the visible one
    return this.page.locator('.editor-group-container.active .monaco-editor').filter({ visible: true }).first();
  }

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Load the workbench on a folder; resolves once the explorer lists the folder's files. */
  async open(url: string, folder: string, timeoutMs = 60_000): Promise<void> {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
  }

  async screenshot(step: string): Promise<string> {
    mkdirSync(this.artifactsDir, { recursive: true });
    const path = join(this.artifactsDir, `${this.name}-${step}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** Click a top-level file in the explorer; resolves once its editor shows text. */
  async openFromExplorer(fileName: string): Promise<void> {
    await this.page.locator('.explorer-folders-view').getByRole('treeitem', { name: fileName, exact: true }).click();
    await this.waitForEditor(fileName);
  }

  private codeLens(text: RegExp): Locator {
    return this.activeEditor.locator('.codelens-decoration', { hasText: text }).first();
  }

  /** Wait until the active editor shows a CodeLens whose text matches; resolves with its text. */
  async waitForCodeLens(text: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    await this.codeLens(text).waitFor({ timeout: timeoutMs });
    return (await this.codeLens(text).innerText()).trim();
  }

  /** The texts of every CodeLens of the active editor, scrolled into view or not. */
  async codeLenses(): Promise<string[]> {
    return this.activeEditor.locator('.codelens-decoration').evaluateAll((lenses) => lenses.map((l) => (l.textContent ?? '').trim()));
  }

  /** Click the CodeLens whose text matches (in the active editor). */
  async clickCodeLens(text: RegExp): Promise<void> {
    await this.codeLens(text).locator('a').first().click();
  }

  /** Open a file by its workspace-relative path through Quick Open (Ctrl+P). */
  async quickOpen(path: string): Promise<void> {
    const fileName = path.replace(/^.*\//, '');
    // a row's label is the file name, then its folder when it is not at the root: "ebpf-studio.yaml lb, file results"
    const folder = path.includes('/') ? ` ${path.replace(/\/[^/]*$/, '')}` : '';
    const row = new RegExp(`^${escapeRegExp(fileName)}${escapeRegExp(folder)}(?:,|$)`);
    await pickQuickAccessRow(this.page, { key: 'Control+P', value: path, row, what: `file ${path}` }, DEFAULT_TIMEOUT_MS);
    await this.waitForEditor(fileName);
  }

  /**
   * The 1-based line of the cursor in the editor showing `fileName` in some group, focused or not (the
   * status bar's "Ln" is only there for the focused editor): the line number the editor marks active.
   */
  async cursorLine(fileName: string): Promise<number | undefined> {
    const group = this.page.locator('.editor-group-container').filter({ has: this.tab(fileName, true) });
    const active = group.locator('.monaco-editor .line-numbers.active-line-number').filter({ visible: true }).first();
    const text = await active.innerText({ timeout: 1000 }).catch(() => '');
    return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
  }

  /** Switch to an open editor by clicking its tab. */
  async selectTab(fileName: string): Promise<void> {
    await this.tab(fileName).first().click();
    await this.waitForEditor(fileName);
  }

  private tab(fileName: string, selected?: boolean): Locator {
    const name = nameOf(fileName);
    return this.page.getByRole('tab', selected === undefined ? { name } : { name, selected });
  }

  /** Wait until the file is the active editor and its text is drawn. */
  async waitForEditor(fileName: string): Promise<void> {
    await this.tab(fileName, true).first().waitFor();
    await this.activeEditor.locator('.view-lines .view-line').first().waitFor();
  }

  /**
   * Replace every occurrence of `find` in the active editor with the Find/Replace widget (Ctrl+H, both
   * boxes, Replace All), then close it (its Close button); resolves with the match count the widget showed, e.g. "1 of 1".
   */
  async replaceAll(find: string, replacement: string, timeoutMs = 10_000): Promise<string> {
    await this.activeEditor.click();
    await this.page.keyboard.press('Control+H');
    const widget = this.page.locator('.editor-group-container.active .find-widget.visible').first();
    await widget.waitFor({ timeout: timeoutMs });
    await widget.locator('.find-part .input').first().fill(find);
    await widget.locator('.replace-part .input').first().fill(replacement);
    const count = widget.locator('.matchesCount');
    let matches = '';
    await poll(
      async () => ((matches = (await count.innerText()).trim()) && !/^No results$/.test(matches) ? true : undefined),
      timeoutMs,
      () => `the Find widget finds no "${find}" within ${timeoutMs} ms (it shows "${matches}")`,
    );
    await widget.getByRole('button', { name: /^Replace All/ }).click({ timeout: timeoutMs });
    await widget.getByRole('button', { name: /^Close/ }).click({ timeout: timeoutMs });
    await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
    return matches;
  }

  /**
   * Save the active editor (Ctrl+S). The write is not awaited: code-server auto-saves after a short delay,
   * so its tabs never show unsaved changes to wait on; check the file itself.
   */
  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
  }

  /** Run a command from the Command Palette (F1) by its title. */
  async runCommand(title: string): Promise<void> {
    await pickQuickAccessRow(this.page, commandEntry(title), DEFAULT_TIMEOUT_MS);
    await this.quickInput.waitFor({ state: 'hidden' });
  }

  /** Show the Problems panel (Ctrl+Shift+M). */
  async showProblems(): Promise<void> {
    if (await this.page.locator('.markers-panel').isVisible()) return;
    await this.page.keyboard.press('Control+Shift+M');
    await this.page.locator('.markers-panel').waitFor({ state: 'visible' });
  }

  /** The problems the panel lists now. */
  async problems(): Promise<Problem[]> {
    const rows = await this.page.locator('.markers-panel .monaco-list-row').evaluateAll((elements) =>
      elements.map((e) => ({ label: e.getAttribute('aria-label') ?? '', text: (e as HTMLElement).innerText })),
    );
    const problems: Problem[] = [];
    for (const { label, text } of rows) {
      const m = /^(Error|Warning|Info|Hint)\b[\s\S]* at line (\d+) and character (\d+)/.exec(label);
      if (m) problems.push({ severity: m[1]!, line: Number(m[2]), column: Number(m[3]), text: text.replace(/\s+/g, ' ').trim() });
    }
    return problems;
  }

  /** Wait until the Problems panel lists a problem that matches. */
  async waitForProblem(matches: (p: Problem) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Problem> {
    await this.showProblems();
    let seen: Problem[] = [];
    return poll(
      async () => (seen = await this.problems()).find(matches),
      timeoutMs,
      () => `no matching problem within ${timeoutMs} ms; the panel lists: ${JSON.stringify(seen)}`,
    );
  }

  /** Wait until no problem in the panel matches. */
  async waitForNoProblem(matches: (p: Problem) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.showProblems();
    let seen: Problem[] = [];
    await poll(
      async () => ((seen = (await this.problems()).filter(matches)).length === 0 ? true : undefined),
      timeoutMs,
      () => `the problem is still listed after ${timeoutMs} ms: ${JSON.stringify(seen)}`,
    );
  }

  /** The screen position of the middle of a squiggle on a (1-based) line of the active editor, once it is drawn. */
  async waitForSquiggle(line: number, severity = 'error', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ x: number; y: number }> {
    const probe = (): Promise<{ x: number; y: number } | undefined> =>
      this.activeEditor.evaluate(
        (editor, { line, severity }) => {
          const number = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].find((e) => e.textContent?.trim() === String(line));
          if (!number) return undefined;
          const row = number.getBoundingClientRect();
          const squiggle = [...editor.querySelectorAll(`.view-overlays .squiggly-${severity}`)]
            .map((e) => e.getBoundingClientRect())
            .find((r) => r.width > 0 && r.top + r.height / 2 > row.top && r.top + r.height / 2 < row.bottom);
          return squiggle ? { x: squiggle.left + squiggle.width / 2, y: squiggle.top + squiggle.height / 2 } : undefined;
        },
        { line, severity },
      );
    return poll(probe, timeoutMs, () => `no ${severity} squiggle on line ${line} within ${timeoutMs} ms`);
  }

  /** Move the mouse onto the squiggle on `line` and return the text of the hover that appears. */
  async hoverSquiggle(line: number, severity = 'error'): Promise<string> {
    const { x, y } = await this.waitForSquiggle(line, severity);
    await this.page.mouse.move(x - 5, y);
    await this.page.mouse.move(x, y, { steps: 3 });
    const hover = this.page.locator('.monaco-hover:not(.hidden) .monaco-hover-content').first();
    await hover.waitFor({ state: 'visible' });
    return hover.innerText();
  }

  /** Click into the squiggle on `line`, press Ctrl+. and apply the code action whose title matches; resolves with its title. */
  async applyQuickFix(line: number, title: RegExp, severity = 'error'): Promise<string> {
    const { x, y } = await this.waitForSquiggle(line, severity);
    await this.page.mouse.click(x, y);
    // park the mouse on the title bar: a hover opening under it would close the action list
    await this.page.mouse.move(0, 0);
    await this.page.locator('.monaco-hover:not(.hidden) .monaco-hover-content').first().waitFor({ state: 'hidden' });
    await this.page.keyboard.press('Control+.');
    const action = this.page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
    await action.waitFor({ state: 'visible' });
    const chosen = await action.innerText();
    await action.click();
    await this.page.locator('.action-widget').first().waitFor({ state: 'hidden' });
    return chosen.trim();
  }

  /** The language mode the status bar shows for the active editor. */
  async languageMode(): Promise<string> {
    return (await this.page.locator('[id="status.editor.mode"]').innerText()).trim();
  }

  /** The active editor's text as displayed (the visible lines). */
  async editorText(): Promise<string> {
    const lines = await this.activeEditor.locator('.view-lines .view-line').evaluateAll((elements) =>
      elements
        .map((e) => ({ top: parseFloat((e as HTMLElement).style.top), text: (e as HTMLElement).innerText }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text),
    );
    return lines.join('\n').replace(/\u00a0/g, ' ');
  }
}
