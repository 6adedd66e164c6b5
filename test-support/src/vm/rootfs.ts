import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { downloadPackage, type AptView } from './apt';
import { run } from './exec';
import { FINISH_SCRIPT, finishScript, packagesFrom, stagedPath } from './finish';
import type { Recipe } from './recipe';
import { debianMirror } from './sources';

/** What the kernel package gave: the kernel to boot and its release string. */
export interface ExtractedKernel {
  readonly vmlinuz: string;
  readonly release: string;
  /** `lib/modules/<release>` of the extracted package. */
  readonly modulesDir: string;
}

/** `apt-get download` + `dpkg -x` of the recipe's kernel package into `dir`. */
export async function extractKernel(recipe: Recipe, apt: AptView, dir: string, logFile: string): Promise<ExtractedKernel> {
  const downloads = join(dir, 'download');
  const tree = join(dir, 'tree');
  mkdirSync(downloads, { recursive: true, mode: 0o755 });
  const deb = await downloadPackage(apt, recipe.kernel, downloads, logFile);
  await run('dpkg', ['-x', deb, tree], { logFile, contained: true });
  rmSync(downloads, { recursive: true, force: true });
  const modulesRoot = join(tree, 'lib', 'modules');
  const [release] = readdirSync(modulesRoot);
  if (release === undefined) throw new Error(`${recipe.kernel.name} has no lib/modules/<release>`);
  return { vmlinuz: join(tree, 'boot', `vmlinuz-${release}`), release, modulesDir: join(modulesRoot, release) };
}

/**
 * The guest's root file system in `rootfs`, up to the finish script: debootstrap (minbase + the recipe's
 * packages from the machine's Debian mirror; with `foreign`, only its first stage, which unpacks and runs
 * nothing of the guest's architecture), the kernel's modules, the recipe's files staged and the finish
 * script (`finish.ts`) that installs them.
 */
export async function prepareRootfs(recipe: Recipe, kernel: ExtractedKernel, rootfs: string, foreign: boolean, logFile: string): Promise<void> {
  const mirror = debianMirror(recipe.suite);
  const args = [`--arch=${recipe.arch}`, ...(foreign ? ['--foreign'] : []), `--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`];
  await run('debootstrap', [...args, recipe.suite, rootfs, mirror], { logFile, contained: true, timeoutMs: 20 * 60_000 });
  const modules = join(usrMerged(rootfs, 'lib'), 'modules');
  mkdirSync(modules, { recursive: true });
  await run('cp', ['-a', kernel.modulesDir, join(modules, kernel.release)], { logFile, contained: true });
  for (const link of ['build', 'source']) rmSync(join(modules, kernel.release, link), { force: true });
  for (const file of recipe.files) writeGuestFile(rootfs, stagedPath(file), file.content, file.mode);
  writeGuestFile(rootfs, FINISH_SCRIPT, finishScript(recipe, kernel.release), 0o755);
}

/** Runs the finish script in a chroot (the guest's architecture is this machine's); returns the installed packages. */
export async function finishInChroot(rootfs: string, logFile: string): Promise<string[]> {
  const { stdout } = await run('chroot', [rootfs, '/bin/sh', FINISH_SCRIPT], { logFile, contained: true });
  return packagesFrom(stdout);
}

/** `<rootfs>/<top>`, or `<rootfs>/usr/<top>` when it is the merged-/usr symlink (never write through a link). */
function usrMerged(rootfs: string, top: string): string {
  const path = join(rootfs, top);
  return lstatSync(path).isSymbolicLink() ? join(rootfs, 'usr', top) : path;
}

export function writeGuestFile(rootfs: string, path: string, content: string, mode: number): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { force: true });
  writeFileSync(target, content, { mode });
  chmodSync(target, mode);
}

/** A raw ext4 image of `rootfs` (mkfs.ext4 -d), written to `<image>.partial`; returns that name. */
export async function makeExt4Image(rootfs: string, image: string, sizeBytes: number, logFile: string): Promise<string> {
  const temp = `${image}.partial`;
  rmSync(temp, { force: true });
  writeFileSync(temp, '');
  truncateSync(temp, sizeBytes);
  await run('mkfs.ext4', ['-q', '-F', '-L', 'ebst-root', '-d', rootfs, temp], { logFile, contained: true });
  return temp;
}

/** Checks the image with e2fsck -fn and gives it its final name. */
export async function completeImage(temp: string, image: string, logFile: string): Promise<void> {
  await run('e2fsck', ['-fn', temp], { logFile });
  renameSync(temp, image);
}
