import { join } from 'node:path';
import { run } from './run';

/** The repository (e2e/dist/src → ../../..). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * The VSIX under test: $EBPF_STUDIO_VSIX when set, else one freshly built by
 * scripts/package-vsix.js (tsc -b, esbuild bundles, vsce) into .artifacts/.
 */
export async function builtVsix(): Promise<string> {
  const given = process.env.EBPF_STUDIO_VSIX;
  if (given) return given;
  await run(process.execPath, [join(REPO_ROOT, 'scripts', 'package-vsix.js')], { cwd: REPO_ROOT });
  return join(REPO_ROOT, '.artifacts', 'ebpf-traffic-studio.vsix');
}
