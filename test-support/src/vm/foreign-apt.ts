import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AptView } from './apt';
import type { VmArch } from './arch';
import { run } from './exec';
import { findDebianMirror } from './sources';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const MACHINE_LISTS = '/var/lib/apt/lists';
/** Touched after each successful `apt-get update` of the private lists. */
const UPDATED_STAMP = 'updated';

/**
 * apt for another architecture's packages, with all of its state in `dir` (sources, lists, cache, an empty
 * dpkg status): the machine's apt configuration, its lists and dpkg's architectures are never changed (no
 * `dpkg --add-architecture`). The sources are the machine's Debian mirrors for the suite, its -updates and
 * -security, restricted to `arch` and checked against Debian's archive keyring. The private lists are
 * fetched again when the machine's own lists are newer (someone ran `apt-get update`), so both
 * architectures' kernels move with the same update. Call under the build lock.
 */
export async function foreignApt(arch: VmArch, suite: string, dir: string, logFile: string): Promise<AptView> {
  const state = join(dir, 'state');
  const cache = join(dir, 'cache');
  const parts = join(dir, 'sources.list.d');
  const preferences = join(dir, 'preferences.d');
  const sourceList = join(dir, 'sources.list');
  const status = join(state, 'status');
  for (const path of [join(state, 'lists', 'partial'), join(cache, 'archives', 'partial'), parts, preferences]) mkdirSync(path, { recursive: true });
  if (!existsSync(status)) writeFileSync(status, '');
  const options = [
    '-o', `Dir::State=${state}`,
    '-o', `Dir::State::status=${status}`,
    '-o', `Dir::Cache=${cache}`,
    '-o', `Dir::Etc::SourceList=${sourceList}`,
    '-o', `Dir::Etc::SourceParts=${parts}`,
    '-o', `Dir::Etc::Preferences=${join(preferences, 'none')}`,
    '-o', `Dir::Etc::PreferencesParts=${preferences}`,
    '-o', `APT::Architecture=${arch}`,
    '-o', `APT::Architectures::=${arch}`,
    // The downloads go to our own directories, which apt's _apt user may not be able to write.
    '-o', 'APT::Sandbox::User=root',
  ];
  const sources = foreignSources(arch, suite);
  const sourcesChanged = !existsSync(sourceList) || readFileSync(sourceList, 'utf8') !== sources;
  if (sourcesChanged) writeFileSync(sourceList, sources);
  const stamp = join(dir, UPDATED_STAMP);
  if (sourcesChanged || !existsSync(stamp) || newestMtime(MACHINE_LISTS) > statSync(stamp).mtimeMs) {
    await run('apt-get', [...options, 'update'], { logFile, contained: true });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  }
  return { arch, options };
}

function foreignSources(arch: VmArch, suite: string): string {
  if (!existsSync(KEYRING)) throw new Error(`${KEYRING} is missing (Debian package debian-archive-keyring)`);
  const lines = [suite, `${suite}-updates`, `${suite}-security`].flatMap((name) => {
    const mirror = findDebianMirror(name);
    return mirror === undefined ? [] : [`deb [arch=${arch} signed-by=${KEYRING}] ${mirror} ${name} main`];
  });
  if (lines.length === 0) throw new Error(`no apt source for ${suite} main in /etc/apt/sources.list{,.d}`);
  return `${lines.join('\n')}\n`;
}

/** The newest modification time of the files in `dir` (0 when it has none). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((newest, name) => Math.max(newest, statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0), 0);
}
