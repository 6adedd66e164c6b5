import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHostPackages, resolveKernelPackage, type AptView } from './apt';
import { archProfile, VM_ARCHES, type ArchProfile, type VmArch } from './arch';
import { cacheLayout, pruneLogs, vmCacheDir, type CacheLayout } from './cache';
import { onProcessExit, removeTree } from './cleanup';
import { run } from './exec';
import { foreignApt } from './foreign-apt';
import { cachedKeys } from './keys';
import { withFileLock } from './lock';
import { describeRecipe, makeRecipe, recipeKey, SUITE, type Recipe, type RecipeDescription } from './recipe';
import { completeImage, extractKernel, finishInChroot, makeExt4Image, prepareRootfs, type ExtractedKernel } from './rootfs';
import { runSecondStage, stageSecondStage } from './second-stage';

/** A built image: a raw ext4 root file system plus the kernel that boots it, never written by a VM. */
export interface VmImage {
  /** The guest's architecture. */
  readonly arch: VmArch;
  /** `<cache>/vm/images/<arch>/<recipeKey>`. */
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
  /** How long building the image took (this call's, or the cached image's when it was built). */
  readonly buildMs: number;
}

export interface BuildVmImageOptions {
  /** Cache root; `vm/` is created below it. Default `$EBPF_STUDIO_CACHE` or `/var/cache/ebpf-studio`. */
  cacheDir?: string;
  /** The guest's architecture; default amd64 (this machine's). */
  arch?: VmArch;
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
 * Builds (of every architecture) are serialised by one lock; each goes to `images/<arch>/.build-<key>-<pid>`
 * and is renamed to `images/<arch>/<key>` only when complete, so an interrupted build is never used (and
 * is removed by the next).
 */
export async function buildVmImage(options: BuildVmImageOptions = {}): Promise<VmImage> {
  const started = Date.now();
  const profile = archProfile(options.arch ?? 'amd64');
  const layout = cacheLayout(vmCacheDir(options.cacheDir));
  return withFileLock(layout.lockFile, LOCK_TIMEOUT_MS, async () => {
    const logFile = join(layout.logs, `build-${profile.arch}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
    await ensureHostPackages(profile, logFile);
    const apt = await aptView(profile, layout, logFile);
    const kernel = await resolveKernelPackage(apt);
    const keys = await cachedKeys(layout.keys);
    const recipe = makeRecipe(profile.arch, kernel, keys);
    const description = describeRecipe(recipe);
    const key = recipeKey(description);
    const images = archImages(layout, profile.arch);
    const dir = join(images, key);
    for (const entry of readdirSync(images)) {
      if (entry.startsWith(BUILD_PREFIX)) removeTree(join(images, entry));
    }
    const cached = await usable(dir);
    if (!cached) {
      removeTree(dir);
      await build(profile, apt, recipe, description, key, images, logFile);
      for (const entry of readdirSync(images)) {
        if (entry !== key) removeTree(join(images, entry));
      }
    }
    pruneLogs(layout.logs);
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    return {
      arch: profile.arch,
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
      buildMs: manifest.buildMs,
    };
  });
}

/** `images/<arch>/`, one directory per architecture; anything else in `images/` (the layout before architectures) is removed. */
function archImages(layout: CacheLayout, arch: VmArch): string {
  for (const entry of readdirSync(layout.images)) {
    if (!(VM_ARCHES as readonly string[]).includes(entry)) removeTree(join(layout.images, entry));
  }
  const images = join(layout.images, arch);
  mkdirSync(images, { recursive: true });
  return images;
}

/** The machine's apt for its own architecture; a private apt state in the cache for another (`foreign-apt.ts`). */
async function aptView(profile: ArchProfile, layout: CacheLayout, logFile: string): Promise<AptView> {
  return profile.native ? { arch: profile.arch, options: [] } : foreignApt(profile.arch, SUITE, join(layout.root, `apt-${profile.arch}`), logFile);
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

async function build(profile: ArchProfile, apt: AptView, recipe: Recipe, description: RecipeDescription, key: string, images: string, logFile: string): Promise<void> {
  const started = Date.now();
  const temp = join(images, `${BUILD_PREFIX}${key}-${process.pid}`);
  const forget = onProcessExit(() => removeTree(temp));
  try {
    mkdirSync(temp, { recursive: true });
    const kernel = await extractKernel(recipe, apt, join(temp, 'kernel'), logFile);
    const image = join(temp, 'base.img');
    const packages = profile.native ? await nativeImage(recipe, kernel, temp, logFile) : await foreignImage(profile, recipe, kernel, temp, logFile);
    chmodSync(image, 0o444);
    renameSync(kernel.vmlinuz, join(temp, 'vmlinuz'));
    removeTree(join(temp, 'kernel'));
    const manifest: Manifest = {
      recipe: description,
      recipeKey: key,
      kernelRelease: kernel.release,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
      packages,
    };
    writeFileSync(join(temp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(temp, join(images, key));
  } finally {
    forget();
    removeTree(temp);
  }
}

/** The machine's architecture: debootstrap and the finish script in a chroot, then the image. */
async function nativeImage(recipe: Recipe, kernel: ExtractedKernel, temp: string, logFile: string): Promise<string[]> {
  const rootfs = join(temp, 'rootfs');
  await prepareRootfs(recipe, kernel, rootfs, false, logFile);
  const packages = await finishInChroot(rootfs, logFile);
  const partial = await makeExt4Image(rootfs, join(temp, 'base.img'), recipe.imageSizeBytes, logFile);
  removeTree(rootfs);
  await completeImage(partial, join(temp, 'base.img'), logFile);
  return packages;
}

/** Another architecture: debootstrap's first stage here, the image, then its second stage and the finish script in the guest. */
async function foreignImage(profile: ArchProfile, recipe: Recipe, kernel: ExtractedKernel, temp: string, logFile: string): Promise<string[]> {
  const rootfs = join(temp, 'rootfs');
  await prepareRootfs(recipe, kernel, rootfs, true, logFile);
  stageSecondStage(rootfs);
  const partial = await makeExt4Image(rootfs, join(temp, 'base.img'), recipe.imageSizeBytes, logFile);
  removeTree(rootfs);
  const packages = await runSecondStage(profile, partial, kernel.vmlinuz, logFile);
  await completeImage(partial, join(temp, 'base.img'), logFile);
  return packages;
}
