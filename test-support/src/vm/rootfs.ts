import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { debianMirror, downloadPackage } from './apt';
import { run } from './exec';
import type { Recipe } from './recipe';

/** What the kernel package gave: the kernel to boot and its release string. */
export interface ExtractedKernel {
  readonly vmlinuz: string;
  readonly release: string;
  /** `lib/modules/<release>` of the extracted package. */
  readonly modulesDir: string;
}

/** `apt-get download` + `dpkg -x` of the recipe's kernel package into `dir`. */
export async function extractKernel(recipe: Recipe, dir: string, logFile: string): Promise<ExtractedKernel> {
  const downloads = join(dir, 'download');
  const tree = join(dir, 'tree');
  mkdirSync(downloads, { recursive: true, mode: 0o755 });
  const deb = await downloadPackage(recipe.kernel, downloads, logFile);
  await run('dpkg', ['-x', deb, tree], { logFile, contained: true });
  rmSync(downloads, { recursive: true, force: true });
  const modulesRoot = join(tree, 'lib', 'modules');
  const [release] = readdirSync(modulesRoot);
  if (release === undefined) throw new Error(`${recipe.kernel.name} has no lib/modules/<release>`);
  return { vmlinuz: join(tree, 'boot', `vmlinuz-${release}`), release, modulesDir: join(modulesRoot, release) };
}

/**
 * The guest's root file system in `rootfs`: debootstrap (minbase + the recipe's packages from the machine's
 * Debian mirror), the kernel's modules with their depmod indexes, the recipe's files, networkd enabled and
 * the noisy timers masked, package caches and the host keys made by openssh-server's postinst removed.
 */
export async function buildRootfs(recipe: Recipe, kernel: ExtractedKernel, rootfs: string, logFile: string): Promise<void> {
  const mirror = debianMirror(recipe.suite);
  await run('debootstrap', [`--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, rootfs, mirror], {
    logFile,
    contained: true,
    timeoutMs: 20 * 60_000,
  });
  const modules = join(usrMerged(rootfs, 'lib'), 'modules');
  mkdirSync(modules, { recursive: true });
  await run('cp', ['-a', kernel.modulesDir, join(modules, kernel.release)], { logFile, contained: true });
  for (const link of ['build', 'source']) rmSync(join(modules, kernel.release, link), { force: true });
  await run('chroot', [rootfs, 'depmod', '-a', kernel.release], { logFile, contained: true });

  for (const file of readdirSync(join(rootfs, 'etc', 'ssh'))) {
    if (file.startsWith('ssh_host_')) rmSync(join(rootfs, 'etc', 'ssh', file));
  }
  for (const file of recipe.files) writeGuestFile(rootfs, file.path, file.content, file.mode);
  chmodSync(join(rootfs, 'root', '.ssh'), 0o700);

  await run('chroot', [rootfs, 'systemctl', 'enable', 'systemd-networkd.service'], { logFile, contained: true });
  await run('chroot', [rootfs, 'systemctl', 'mask', ...recipe.maskedUnits], { logFile, contained: true });

  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const entry of readdirSync(join(rootfs, dir))) {
      if (entry !== 'partial' && entry !== 'lock') rmSync(join(rootfs, dir, entry), { recursive: true, force: true });
    }
  }
}

/** `<rootfs>/<top>`, or `<rootfs>/usr/<top>` when it is the merged-/usr symlink (never write through a link). */
function usrMerged(rootfs: string, top: string): string {
  const path = join(rootfs, top);
  return lstatSync(path).isSymbolicLink() ? join(rootfs, 'usr', top) : path;
}

function writeGuestFile(rootfs: string, path: string, content: string, mode: number): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { force: true });
  writeFileSync(target, content, { mode });
  chmodSync(target, mode);
}

/** A raw ext4 image of `rootfs` (mkfs.ext4 -d), checked with e2fsck -fn; written to a temp name first. */
export async function makeExt4Image(rootfs: string, image: string, sizeBytes: number, logFile: string): Promise<void> {
  const temp = `${image}.partial`;
  rmSync(temp, { force: true });
  writeFileSync(temp, '');
  truncateSync(temp, sizeBytes);
  await run('mkfs.ext4', ['-q', '-F', '-L', 'ebst-root', '-d', rootfs, temp], { logFile, contained: true });
  await run('e2fsck', ['-fn', temp], { logFile });
  renameSync(temp, image);
}
