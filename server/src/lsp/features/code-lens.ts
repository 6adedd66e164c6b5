import type { CodeLens } from 'vscode-languageserver';
import { SourceText } from '../../engine/source-text';
import type { VerifyReport } from '../../engine/types';
import { codeLens, lensTitle } from '../translate';

/** One lens above each SEC program: its verdict, cost and kernel; clicking opens the verifier log. */
export function programLenses(uri: string, text: string, report: VerifyReport): CodeLens[] {
  const source = new SourceText(text);
  return report.programs.map((p) => {
    const fnLine = p.line ?? source.functionLine(p.name);
    const line = source.sectionLine(p.section, fnLine) ?? fnLine ?? 1;
    const codes = report.diagnostics.filter((d) => d.program === p.name && d.severity === 'error').map((d) => d.code);
    return codeLens(line, lensTitle(p, report, codes), uri, p.name, report.logs[p.name] !== undefined);
  });
}
