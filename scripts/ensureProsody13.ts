import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../test/lab/labError.ts';

/**
 * Prosody 13 for the lab, beside the apt-installed Prosody 0.12 (issue 12: SASL2, Bind2 and FAST
 * against a real server). apt holds one Prosody at a time, so Debian's bookworm-backports packages
 * `prosody` (13.x) and `prosody-modules` (mod_sasl2, mod_sasl2_bind2, mod_sasl2_fast, ...) are
 * downloaded with a private apt state and unpacked (`dpkg -x`) into a cache of their own; the
 * system's apt sources, lists and installed packages are not touched. Prosody 13 then runs on the
 * Lua libraries 0.12 brought in (lua5.4, lua-sec, lua-socket, lua-expat, lua-filesystem, ...).
 */

/**
 * Where the unpacked tree is kept; QUIVER_PROSODY13_CACHE overrides. Prosody runs as its own user,
 * which must be able to enter every directory above the tree: a clone under a private directory
 * (a 0700 home or `mktemp -d`) is not. So as root (the lab runs Prosody only as root, through
 * setpriv) the tree goes to the system cache, which everyone may enter; otherwise next to the
 * clone's node_modules.
 */
export const DEFAULT_PROSODY13_CACHE =
  process.getuid?.() === 0
    ? '/var/cache/quiver-lab/prosody13'
    : join(dirname(dirname(fileURLToPath(import.meta.url))), 'node_modules', '.cache', 'quiver-lab', 'prosody13');

/** The apt line; QUIVER_DEBIAN_MIRROR replaces the mirror (e.g. a CI proxy). */
const SUITE = 'bookworm-backports';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const PACKAGES = ['prosody', 'prosody-modules'] as const;
/** The file written last into a complete tree: what `ensureProsody13` trusts without the network. */
const MANIFEST = 'quiver-prosody13.json';

export interface Prosody13Install {
  /** The unpacked tree (the contents of both packages). */
  readonly root: string;
  /** Prosody's own Lua sources (CFG_SOURCEDIR), with core/, net/, util/. */
  readonly sourceDir: string;
  /** Its modules and prosody-modules' (CFG_PLUGINDIR): mod_sasl2/, mod_sasl2_bind2/, ... */
  readonly pluginDir: string;
  /**
   * The `prosody` launcher with CFG_SOURCEDIR and CFG_PLUGINDIR pointing into this tree; run it as
   * `lua5.4 <launcher> --config <file> -F`, as Prosody's user.
   */
  readonly launcher: string;
  /** Debian versions of the two packages, e.g. "13.0.1-1~bpo12+1". */
  readonly versions: Readonly<Record<(typeof PACKAGES)[number], string>>;
  /** Prosody's own version (`prosody.version`), e.g. "13.0.1". */
  readonly prosodyVersion: string;
}

/**
 * Returns the cached Prosody 13 tree, or downloads and unpacks it first (root not required, but
 * the cache must end up readable by Prosody's user, which the lab checks). Idempotent: a complete
 * tree (its manifest present) is used as is, without the network, in milliseconds; a partial one
 * left by an interrupted run is never used (the tree is built aside and renamed into place).
 * Throws a LabError (`missing-package`) saying what failed and what to do.
 */
export function ensureProsody13(
  cacheDir = process.env.QUIVER_PROSODY13_CACHE || DEFAULT_PROSODY13_CACHE,
): Prosody13Install {
  const cache = resolve(cacheDir);
  const tree = join(cache, 'tree');
  const cached = readManifest(tree);
  if (cached) return cached;

  mkdirSync(cache, { recursive: true });
  const apt = prepareAptState(cache);
  const update = run('apt-get', [...apt.options, 'update'], cache, `apt-get update for ${SUITE}`);
  // apt-get update exits 0 when the mirror is unreachable (it only warns): no index is the sign.
  if (!readdirSync(join(cache, 'apt', 'lists')).some((f) => f.includes('_Packages'))) {
    throw missing(
      `apt-get update got no package index for ${SUITE}:\n${update.stderr.trim().split('\n').slice(-6).join('\n')}`,
    );
  }
  const downloads = join(cache, 'downloads');
  rmSync(downloads, { recursive: true, force: true });
  mkdirSync(downloads, { recursive: true });
  // `apt-get download` writes into the working directory; the version is the suite's candidate.
  run('apt-get', [...apt.options, 'download', ...PACKAGES], downloads, `apt-get download ${PACKAGES.join(' ')}`);
  const debs = readdirSync(downloads).filter((f) => f.endsWith('.deb'));

  const building = join(cache, `tree.${process.pid}.tmp`);
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const versions: Record<string, string> = {};
  for (const name of PACKAGES) {
    const deb = debs.find((f) => f.startsWith(`${name}_`));
    if (!deb)
      throw missing(`apt-get download left no ${name}_*.deb in ${downloads} (got: ${debs.join(', ') || 'nothing'})`);
    versions[name] = run(
      'dpkg-deb',
      ['-f', join(downloads, deb), 'Version'],
      downloads,
      `reading ${deb}`,
    ).stdout.trim();
    run('dpkg', ['-x', join(downloads, deb), building], downloads, `unpacking ${deb}`);
  }
  const install = finishTree(building, tree, versions as Prosody13Install['versions']);
  writeFileSync(join(building, MANIFEST), JSON.stringify({ versions: install.versions }, null, 2) + '\n');
  rmSync(tree, { recursive: true, force: true });
  try {
    renameSync(building, tree);
  } catch (err) {
    // Another lab start finished first: its tree is as good as ours.
    rmSync(building, { recursive: true, force: true });
    const theirs = readManifest(tree);
    if (theirs) return theirs;
    throw missing(`cannot move the unpacked tree to ${tree}: ${(err as Error).message}`);
  }
  rmSync(downloads, { recursive: true, force: true });
  const done = readManifest(tree);
  if (!done) throw missing(`the unpacked tree at ${tree} has no ${MANIFEST} after it was written`);
  return done;
}

/** A private apt state under the cache: only the backports suite, its own lists, no dpkg status. */
function prepareAptState(cache: string): { options: string[] } {
  const aptDir = join(cache, 'apt');
  for (const sub of ['lists/partial', 'archives/partial']) mkdirSync(join(aptDir, sub), { recursive: true });
  const mirror = process.env.QUIVER_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
  const sourceList = join(aptDir, 'sources.list');
  const signedBy = existsSync(KEYRING) ? `[signed-by=${KEYRING}] ` : '';
  writeFileSync(sourceList, `deb ${signedBy}${mirror} ${SUITE} main\n`);
  const options = [
    ['Dir::Etc::SourceList', sourceList],
    ['Dir::Etc::SourceParts', join(aptDir, 'sources.list.d')], // absent: only our one line
    ['Dir::State::Lists', join(aptDir, 'lists')],
    ['Dir::State::status', '/dev/null'], // whatever is installed does not matter for a download
    ['Dir::Cache::Archives', join(aptDir, 'archives')],
    ['Dir::Cache::pkgcache', ''],
    ['Dir::Cache::srcpkgcache', ''],
    // As root, apt drops to _apt for downloads, which cannot write into a root-owned cache.
    ...(process.getuid?.() === 0 ? [['APT::Sandbox::User', 'root']] : []),
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  return { options };
}

/** Checks the unpacked tree and writes the launcher; `tree` is where it will live once renamed. */
function finishTree(building: string, tree: string, versions: Prosody13Install['versions']): Prosody13Install {
  const install = paths(tree, versions, readVersion(building));
  if (!install.prosodyVersion.startsWith('13.')) {
    throw missing(`${SUITE} offers Prosody ${install.prosodyVersion}, the lab needs 13.x`);
  }
  for (const module of ['mod_sasl2', 'mod_sasl2_bind2', 'mod_sasl2_fast', 'mod_sasl2_sm']) {
    if (!existsSync(join(building, 'usr', 'lib', 'prosody', 'modules', module, `${module}.lua`))) {
      throw missing(`prosody-modules ${versions['prosody-modules']} from ${SUITE} has no ${module}`);
    }
  }
  writeLauncher(building, install);
  // Prosody runs as its own user: every directory readable and searchable, every file readable.
  run('chmod', ['-R', 'a+rX', building], building, 'making the tree readable');
  chmodSync(dirname(building), 0o755);
  return install;
}

function readManifest(tree: string): Prosody13Install | null {
  let manifest: { versions?: Prosody13Install['versions'] };
  try {
    manifest = JSON.parse(readFileSync(join(tree, MANIFEST), 'utf8')) as typeof manifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw missing(`${join(tree, MANIFEST)} cannot be read (${(err as Error).message}); remove ${tree}`);
  }
  if (!manifest.versions) throw missing(`${join(tree, MANIFEST)} is malformed; remove ${tree}`);
  const install = paths(tree, manifest.versions, readVersion(tree));
  // A cache restored at another path (CI) still names the old one: point it here again.
  writeLauncher(tree, install);
  return install;
}

/**
 * Writes `<dir>/prosody13`: the package's launcher with CFG_SOURCEDIR and CFG_PLUGINDIR set to
 * `install`'s tree (where `dir` is or will be renamed to). Leaves an up-to-date launcher alone.
 */
function writeLauncher(dir: string, install: Prosody13Install): void {
  let launcher = readFileSync(join(dir, 'usr', 'bin', 'prosody'), 'utf8');
  for (const [name, value] of [
    ['CFG_SOURCEDIR', install.sourceDir],
    ['CFG_PLUGINDIR', `${install.pluginDir}/`],
  ] as const) {
    const line = new RegExp(`^${name}=.*$`, 'm');
    if (!line.test(launcher)) throw missing(`Prosody ${install.prosodyVersion}'s launcher sets no ${name}`);
    launcher = launcher.replace(line, `${name}=${luaString(value)};`);
  }
  const file = join(dir, 'prosody13');
  if (existsSync(file) && readFileSync(file, 'utf8') === launcher) return;
  writeFileSync(file, launcher, { mode: 0o644 });
}

function paths(tree: string, versions: Prosody13Install['versions'], prosodyVersion: string): Prosody13Install {
  const sourceDir = join(tree, 'usr', 'lib', 'prosody');
  return {
    root: tree,
    sourceDir,
    pluginDir: join(sourceDir, 'modules'),
    launcher: join(tree, 'prosody13'),
    versions,
    prosodyVersion,
  };
}

function readVersion(tree: string): string {
  try {
    return readFileSync(join(tree, 'usr', 'lib', 'prosody', 'prosody.version'), 'utf8').trim();
  } catch (err) {
    throw missing(`the unpacked prosody package has no usr/lib/prosody/prosody.version: ${(err as Error).message}`);
  }
}

/** Runs a command to success; returns what it wrote. */
function run(command: string, args: readonly string[], cwd: string, what: string): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
  });
  if (result.error) throw missing(`${what}: cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-8).join('\n');
    throw missing(`${what} failed (${command} exit ${result.status}):\n${tail}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

function missing(detail: string): LabError {
  return new LabError(
    'missing-package',
    `lab: cannot obtain Prosody 13 from Debian ${SUITE}: ${detail}\n` +
      `The lab fetches the packages prosody and prosody-modules from ${SUITE} (deb.debian.org, or ` +
      'QUIVER_DEBIAN_MIRROR) into QUIVER_PROSODY13_CACHE (default /var/cache/quiver-lab/prosody13 as root, else node_modules/.cache/quiver-lab/prosody13); ' +
      'check that the mirror is reachable, or run `node scripts/ensureProsody13.ts` to retry.',
  );
}

/** A Lua string literal for a path (the launcher's CFG_* lines). */
function luaString(value: string): string {
  if (!/^[A-Za-z0-9 @._/+=:~-]*$/.test(value))
    throw missing(`the cache path ${value} has characters the launcher cannot take`);
  return `'${value}'`;
}

// `node scripts/ensureProsody13.ts`: fetch (or find) the tree and print where it is.
if (import.meta.main) {
  try {
    const install = ensureProsody13();
    console.log(
      `Prosody ${install.prosodyVersion} (${install.versions.prosody}, prosody-modules ${install.versions['prosody-modules']}) in ${install.root}`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
