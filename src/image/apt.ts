import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Io } from '../cli/io.js';
import { startProgress } from '../cli/progress.js';
import { DevkitError, oneLine } from '../errors.js';

/**
 * Debian packages for the dev image, fetched on the host by apt with a folder
 * of its own (sources, lists, .debs): the host's apt state is never touched,
 * and the image build that installs them needs no network.
 */
export interface AptSource {
  mirror: string;
  suite: string;
}

/** Debian's signing keys, which the host's apt trusts: the lists devkit fetches are checked against them. */
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Lists older than this are fetched again before packages are chosen. */
const LISTS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** One package apt would install: its name, version and architecture, as `apt-get -s` prints them. */
interface PlannedDeb {
  name: string;
  version: string;
  arch: string;
}

/** apt's options pointing every folder into `dir`, reading the image's dpkg status as what is installed. */
function aptOptions(dir: string, statusFile: string): string[] {
  const empty = path.join(dir, 'empty');
  const settings: Record<string, string> = {
    'Dir::Etc::SourceList': path.join(dir, 'sources.list'),
    'Dir::Etc::SourceParts': empty,
    'Dir::Etc::PreferencesParts': empty,
    'Dir::Etc::preferences': '/dev/null',
    'Dir::State::Lists': path.join(dir, 'lists'),
    'Dir::State::status': statusFile,
    'Dir::Cache': path.join(dir, 'cache'),
    'Dir::Cache::archives': path.join(dir, 'archives'),
    // The folders are devkit's own, and apt's _apt user could not read them.
    'Debug::NoLocking': '1',
    ...(process.getuid?.() === 0 ? { 'APT::Sandbox::User': 'root' } : {}),
  };
  return Object.entries(settings).flatMap(([key, value]) => ['-o', `${key}=${value}`]);
}

function prepareDir(dir: string, source: AptSource): void {
  if (!existsSync(KEYRING))
    throw new DevkitError(`image.packages needs Debian's keyring (${KEYRING}): apt-get install debian-archive-keyring`);
  for (const sub of ['empty', 'lists/partial', 'cache', 'archives/partial']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'sources.list'), `deb [signed-by=${KEYRING}] ${source.mirror} ${source.suite} main\n`);
}

function listsAge(dir: string): number {
  const lists = readdirSync(path.join(dir, 'lists')).filter((name) => name.endsWith('_Packages'));
  if (lists.length === 0) return Infinity;
  return Date.now() - Math.min(...lists.map((name) => statSync(path.join(dir, 'lists', name)).mtimeMs));
}

async function apt(args: readonly string[], options: string[]): Promise<{ ok: boolean; stdout: string; error: string }> {
  const result = await execa('apt-get', [...options, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
  }).catch((error: unknown) => {
    throw new DevkitError(`image.packages needs apt-get on the host (a Debian machine): ${oneLine(String(error))}`);
  });
  const error =
    result.stderr
      .split('\n')
      .filter((line) => line.startsWith('E:'))
      .join(' ') || oneLine(result.stderr);
  return { ok: result.exitCode === 0, stdout: result.stdout, error };
}

/** What `apt-get -s install` would unpack (the packages the image lacks, with their dependencies). */
function plannedDebs(simulation: string): PlannedDeb[] {
  return [...simulation.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[(\S+)\]\)/gm)].map(([, name, version, arch]) => ({
    name: name ?? '',
    version: version ?? '',
    arch: arch ?? '',
  }));
}

/** The file apt stores a package under (an epoch's colon is written %3a). */
function debFile(deb: PlannedDeb): string {
  return `${deb.name}_${deb.version.replace(':', '%3a')}_${deb.arch}.deb`;
}

/**
 * Downloads `packages` and what they need beyond what the image has (its
 * dpkg status file) into dir/archives; returns the .deb files to install.
 */
export async function fetchDebs(
  packages: readonly string[],
  where: { dir: string; statusFile: string; source: AptSource },
  io: Io,
): Promise<string[]> {
  prepareDir(where.dir, where.source);
  const options = aptOptions(where.dir, where.statusFile);
  const update = async (): Promise<void> => {
    const progress = startProgress(io, `fetching Debian's package lists (${where.source.suite})`);
    const updated = await apt(['-q', 'update'], options);
    progress.done(updated.ok ? 'done' : 'failed');
    if (!updated.ok) throw new DevkitError(`apt-get update for image.packages failed: ${updated.error}`);
  };
  if (listsAge(where.dir) > LISTS_MAX_AGE_MS) await update();
  const install = ['install', '--no-install-recommends', '-y', ...packages];
  let simulated = await apt(['-s', ...install], options);
  // A package added to Debian since the lists were fetched: fetch them again once.
  if (!simulated.ok && listsAge(where.dir) > 60_000) {
    await update();
    simulated = await apt(['-s', ...install], options);
  }
  if (!simulated.ok) throw new DevkitError(`image.packages: apt cannot install ${packages.join(' ')}: ${simulated.error}`);
  const planned = plannedDebs(simulated.stdout);
  const progress = startProgress(io, `downloading ${planned.length} Debian packages`);
  const fetched = await apt(['-q', '--download-only', ...install], options);
  progress.done(fetched.ok ? 'done' : 'failed');
  if (!fetched.ok) throw new DevkitError(`downloading image.packages failed: ${fetched.error}`);
  const files = planned.map((deb) => path.join(where.dir, 'archives', debFile(deb)));
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new DevkitError(`apt reported success but ${missing.map((file) => path.basename(file)).join(', ')} is missing`);
  return files;
}
