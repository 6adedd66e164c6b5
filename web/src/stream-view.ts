/** The verified instruction stream: a read-only monaco model (monaco renders only the visible lines). */
import type { ExplorerInstruction } from './data';
import { INSN_LANGUAGE, monaco, themeName } from './monaco';
import type { StreamLayout } from './stream-layout';

export class StreamView {
  private readonly editor: monaco.editor.IStandaloneCodeEditor;
  private readonly model = monaco.editor.createModel('', INSN_LANGUAGE);
  private readonly marks: monaco.editor.IEditorDecorationsCollection;
  private readonly selection: monaco.editor.IEditorDecorationsCollection;
  private layout: StreamLayout = { text: '', lineOfInsn: new Int32Array(), insnOfLine: new Int32Array() };

  constructor(private readonly container: HTMLElement, onSelect: (position: number) => void) {
    this.editor = monaco.editor.create(container, {
      model: this.model,
      theme: themeName(),
      readOnly: true,
      domReadOnly: true,
      automaticLayout: true,
      scrollBeyondLastLine: false,
      glyphMargin: true,
      folding: false,
      lineNumbersMinChars: 5,
      minimap: { enabled: false },
      wordWrap: 'off',
      occurrencesHighlight: 'off',
      renderLineHighlight: 'none',
    });
    this.marks = this.editor.createDecorationsCollection();
    this.selection = this.editor.createDecorationsCollection();
    // Clicks (a click on a line number selects the whole line) and arrow keys select; our own cursor moves ('api') do not.
    this.editor.onDidChangeCursorSelection((e) => {
      if (e.source !== 'mouse' && e.source !== 'keyboard') return;
      const position = this.layout.insnOfLine[e.selection.startLineNumber - 1];
      if (position !== undefined) onSelect(position);
    });
  }

  show(instructions: readonly ExplorerInstruction[], layout: StreamLayout): void {
    this.layout = layout;
    this.selection.clear();
    this.model.setValue(layout.text);
    // The margin shows each instruction's index; annotation lines get none.
    this.editor.updateOptions({
      lineNumbers: (line) => {
        const position = layout.insnOfLine[line - 1];
        return position !== undefined && layout.lineOfInsn[position] === line ? String(instructions[position]!.idx) : '';
      },
    });
    const errors: monaco.editor.IModelDeltaDecoration[] = [];
    instructions.forEach((insn, i) => {
      if (!insn.isError) return;
      const line = layout.lineOfInsn[i]!;
      errors.push({
        range: new monaco.Range(line, 1, line, 1),
        options: {
          isWholeLine: true,
          className: 'insn-error',
          glyphMarginClassName: 'glyph-error',
          overviewRuler: { color: '#f14c4c', position: monaco.editor.OverviewRulerLane.Full },
        },
      });
    });
    this.marks.set(errors);
  }

  /** Marks instruction `position` as selected and scrolls it into view. */
  select(position: number): void {
    const line = this.layout.lineOfInsn[position];
    if (line === undefined) return;
    this.selection.set([{ range: new monaco.Range(line, 1, line, 1), options: { isWholeLine: true, className: 'insn-selected' } }]);
    this.container.dataset['position'] = String(position);
    this.editor.setPosition({ lineNumber: line, column: 1 });
    this.editor.revealLineInCenterIfOutsideViewport(line, monaco.editor.ScrollType.Immediate);
  }

  dispose(): void {
    this.editor.dispose();
    this.model.dispose();
  }
}
