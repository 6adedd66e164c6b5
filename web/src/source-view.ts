/** The C source, read-only: diagnostics as markers, a gutter mark on lines with instructions, the selected line highlighted. */
import type { ExplorerDiagnostic } from './data';
import { monaco, themeName } from './monaco';

const MARKER_OWNER = 'ebpf-studio';

const SEVERITY: Record<ExplorerDiagnostic['severity'], monaco.MarkerSeverity> = {
  error: monaco.MarkerSeverity.Error,
  warning: monaco.MarkerSeverity.Warning,
  information: monaco.MarkerSeverity.Info,
};

const CLICKABLE = new Set([
  monaco.editor.MouseTargetType.CONTENT_TEXT,
  monaco.editor.MouseTargetType.CONTENT_EMPTY,
  monaco.editor.MouseTargetType.GUTTER_LINE_NUMBERS,
  monaco.editor.MouseTargetType.GUTTER_LINE_DECORATIONS,
  monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN,
]);

export class SourceView {
  private readonly editor: monaco.editor.IStandaloneCodeEditor;
  private readonly model: monaco.editor.ITextModel;
  private readonly gutter: monaco.editor.IEditorDecorationsCollection;
  private readonly highlight: monaco.editor.IEditorDecorationsCollection;

  constructor(private readonly container: HTMLElement, file: string, source: string, onLineClick: (line: number) => void) {
    this.model = monaco.editor.createModel(source, 'c', monaco.Uri.file(file));
    this.editor = monaco.editor.create(container, {
      model: this.model,
      theme: themeName(),
      readOnly: true,
      domReadOnly: true,
      automaticLayout: true,
      scrollBeyondLastLine: false,
      renderValidationDecorations: 'on',
      lineDecorationsWidth: 12,
      minimap: { enabled: false },
    });
    this.gutter = this.editor.createDecorationsCollection();
    this.highlight = this.editor.createDecorationsCollection();
    this.editor.onMouseDown((e) => {
      const line = e.target.position?.lineNumber;
      if (line !== undefined && CLICKABLE.has(e.target.type)) onLineClick(line);
    });
  }

  /** A program's diagnostics and the lines its instructions came from (`errorLine` marked apart). */
  show(diagnostics: readonly ExplorerDiagnostic[], lines: Iterable<number>, errorLine: number | undefined): void {
    monaco.editor.setModelMarkers(
      this.model,
      MARKER_OWNER,
      diagnostics.map((d) => ({
        startLineNumber: d.line,
        startColumn: d.column,
        endLineNumber: d.endLine,
        endColumn: Math.max(d.endColumn, d.column + 1),
        severity: SEVERITY[d.severity],
        code: d.code,
        source: 'eBPF Traffic Studio',
        message: d.fix ? `${d.message}\n\nFix: ${d.fix}` : d.message,
      })),
    );
    this.gutter.set(
      [...lines].map((line) => ({
        range: new monaco.Range(line, 1, line, 1),
        options: { linesDecorationsClassName: line === errorLine ? 'has-insns error' : 'has-insns' },
      })),
    );
  }

  /** Highlights `line` (none when undefined); `reveal` scrolls it into view. */
  highlightLine(line: number | undefined, reveal: boolean): void {
    if (line === undefined) {
      this.highlight.clear();
      delete this.container.dataset['line'];
      return;
    }
    this.highlight.set([{ range: new monaco.Range(line, 1, line, 1), options: { isWholeLine: true, className: 'source-highlight' } }]);
    this.container.dataset['line'] = String(line);
    if (reveal) {
      this.editor.setPosition({ lineNumber: line, column: 1 });
      this.editor.revealLineInCenterIfOutsideViewport(line, monaco.editor.ScrollType.Smooth);
    }
  }

  dispose(): void {
    this.editor.dispose();
    this.model.dispose();
  }
}
