import type { CodeLens } from 'vscode-languageserver';
import { SourceText } from '../../engine/source-text';
import type { VerifyReport } from '../../engine/types';
import { codeLens, lensTitle } from '../translate';

const shortKernel = (release: string): string => release.replace(/^(\d+\.\d+).*/, '$1');

/** With several targets: `✓ 6.18 · ✗ 6.1 BPF-NULL-DEREF` (node names added where kernels repeat). */
function matrixTitle(verdicts: NonNullable<VerifyReport['matrix']>['programs'][number]['verdicts']): string {
  const cells = Object.entries(verdicts);
  const kernels = cells.map(([, v]) => shortKernel(v.kernel));
  return cells
    .map(([node, v], i) => {
      const where = kernels.indexOf(kernels[i]!) !== kernels.lastIndexOf(kernels[i]!) ? `${node} ${kernels[i]}` : kernels[i];
      return `${v.verdict === 'accepted' ? '✓' : '✗'} ${where}${v.code ? ` ${v.code}` : ''}`;
    })
    .join(' · ');
}

/** One lens above each SEC program: its verdict, cost and kernel (or every target's); clicking opens the verifier log. */
export function programLenses(uri: string, text: string, report: VerifyReport): CodeLens[] {
  const source = new SourceText(text);
  return report.programs.map((p) => {
    const fnLine = p.line ?? source.functionLine(p.name);
    const line = source.sectionLine(p.section, fnLine) ?? fnLine ?? 1;
    const row = report.matrix?.programs.find((r) => r.name === p.name);
    const codes = report.diagnostics.filter((d) => d.program === p.name && d.severity === 'error').map((d) => d.code);
    return codeLens(line, row ? matrixTitle(row.verdicts) : lensTitle(p, report, codes), uri, p.name, report.logs[p.name] !== undefined);
  });
}
