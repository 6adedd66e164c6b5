import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHostPackages, resolveKernelPackage } from './apt';
import { cacheLayout, pruneLogs, vmCacheDir } from './cache';
import { onProcessExit, removeTree } from './cleanup';
import { run } from './exec';
import { cachedKeys } from './keys';
import { withFileLock } from './lock';
import { describeRecipe, makeRecipe, recipeKey, type Recipe, type RecipeDescription } from './recipe';
import { buildRootfs, extractKernel, makeExt4Image } from './rootfs';

/** A built image: a raw ext4 root file system plus the kernel that boots it, never written by a VM. */
export interface VmImage {
  /** `<cache>/vm/images/<recipeKey>`. */
  readonly dir: string;
  /** The raw ext4 image (read-only; VMs boot from copy-on-write overlays of it). */
  readonly image: string;
  readonly vmlinuz: string;
  /** e.g. `linux-image-6.1.0-56-cloud-amd64-unsigned`. */
  readonly kernelPackage: string;
  /** e.g. `6.1.192-2`. */
  readonly kernelVersion: string;
  /** `uname -r` of the guest, e.g. `6.1.0-56-cloud-amd64`. */
  readonly kernelRelease: string;
  /** Hash of the recipe (packages, kernel version, files, script version): the image's cache key. */
  readonly recipeKey: string;
  /** `<type> <base64>` of the guest's fixed host key. */
  readonly hostPublicKey: string;
  /** root's private key (its public half is root's authorized_keys in the image). */
  readonly identityFile: string;
  /** True when this call reused the cached image. */
  readonly cached: boolean;
  /** How long this call took. */
  readonly elapsedMs: number;
}

export interface BuildVmImageOptions {
  /** Cache root; `vm/` is created below it. Default `$EBPF_STUDIO_CACHE` or `/var/cache/ebpf-studio`. */
  cacheDir?: string;
}

interface Manifest {
  readonly recipe: RecipeDescription;
  readonly recipeKey: string;
  readonly kernelRelease: string;
  readonly builtAt: string;
  readonly buildMs: number;
  /** `name version` of every package in the image. */
  readonly packages: readonly string[];
}

const MANIFEST = 'manifest.json';
/** A build in progress; under the lock, any such directory is the leftover of an interrupted build. */
const BUILD_PREFIX = '.build-';
const LOCK_TIMEOUT_MS = 30 * 60_000;

/**
 * Builds the VM image from Debian packages, or returns the cached one when its recipe is unchanged.
 * Builds are serialised by a lock; each goes to `images/.build-<key>-<pid>` and is renamed to
 * `images/<key>` only when complete, so an interrupted build is never used (and is removed by the next).
 */
export async function buildVmImage(options: BuildVmImageOptions = {}): Promise<VmImage> {
  const started = Date.now();
  const layout = cacheLayout(vmCacheDir(options.cacheDir));
  return withFileLock(layout.lockFile, LOCK_TIMEOUT_MS, async () => {
    const logFile = join(layout.logs, `build-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
    await ensureHostPackages(logFile);
    const kernel = await resolveKernelPackage();
    const keys = await cachedKeys(layout.keys);
    const recipe = makeRecipe(kernel, keys);
    const description = describeRecipe(recipe);
    const key = recipeKey(description);
    const dir = join(layout.images, key);
    for (const entry of readdirSync(layout.images)) {
      if (entry.startsWith(BUILD_PREFIX)) removeTree(join(layout.images, entry));
    }
    const cached = await usable(dir);
    if (!cached) {
      removeTree(dir);
      await build(recipe, description, key, layout.images, logFile);
      for (const entry of readdirSync(layout.images)) {
        if (entry !== key) removeTree(join(layout.images, entry));
      }
    }
    pruneLogs(layout.logs);
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    return {
      dir,
      image: join(dir, 'base.img'),
      vmlinuz: join(dir, 'vmlinuz'),
      kernelPackage: kernel.name,
      kernelVersion: kernel.version,
      kernelRelease: manifest.kernelRelease,
      recipeKey: key,
      hostPublicKey: keys.hostPublicKey,
      identityFile: keys.userKey,
      cached,
      elapsedMs: Date.now() - started,
    };
  });
}

/**
 * A cached image is reused only when complete and clean by `e2fsck -fn` (16 ms). VMs never write to it
 * (they boot from overlays, and it is read-only), so a failure means it was damaged outside the harness:
 * it is rebuilt rather than repaired.
 */
async function usable(dir: string): Promise<boolean> {
  if (!['base.img', 'vmlinuz', MANIFEST].every((file) => existsSync(join(dir, file)))) return false;
  try {
    await run('e2fsck', ['-fn', join(dir, 'base.img')]);
    return true;
  } catch {
    return false;
  }
}

async function build(recipe: Recipe, description: RecipeDescription, key: string, images: string, logFile: string): Promise<void> {
  const started = Date.now();
  const temp = join(images, `${BUILD_PREFIX}${key}-${process.pid}`);
  const forget = onProcessExit(() => removeTree(temp));
  try {
    mkdirSync(temp, { recursive: true });
    const kernel = await extractKernel(recipe, join(temp, 'kernel'), logFile);
    const rootfs = join(temp, 'rootfs');
    await buildRootfs(recipe, kernel, rootfs, logFile);
    const { stdout } = await run('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${Version}\\n']);
    await makeExt4Image(rootfs, join(temp, 'base.img'), recipe.imageSizeBytes, logFile);
    chmodSync(join(temp, 'base.img'), 0o444);
    renameSync(kernel.vmlinuz, join(temp, 'vmlinuz'));
    removeTree(rootfs);
    removeTree(join(temp, 'kernel'));
    const manifest: Manifest = {
      recipe: description,
      recipeKey: key,
      kernelRelease: kernel.release,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
      packages: stdout.split('\n').filter((line) => line !== ''),
    };
    writeFileSync(join(temp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(temp, join(images, key));
  } finally {
    forget();
    removeTree(temp);
  }
}
