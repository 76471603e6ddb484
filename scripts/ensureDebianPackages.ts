import { spawnSync } from 'node:child_process';
import { LabError } from '../test/lab/labError.ts';

/** The Debian packages the lab and the e2e tests use. */
// ngtcp2-server and ngtcp2-client: an independent QUIC peer for the interop tests.
export const LAB_PACKAGES: readonly string[] = [
  'prosody',
  'unbound',
  'nsd',
  'ldnsutils',
  'openssl',
  'chromium',
  'ngtcp2-server',
  'ngtcp2-client',
  'iproute2',
  // The network-namespace tests and `npm run bench`: iptables (NFQUEUE delay, drops), ping,
  // python3 for the NFQUEUE delay program (test/netns/).
  'iptables',
  'iputils-ping',
  'python3',
];

/**
 * Checks with dpkg-query that every package is installed. Missing ones are installed with
 * `apt-get update && apt-get install -y` when running as root; otherwise this throws a LabError
 * (`missing-package`) listing them with the one command that installs them.
 */
export async function ensureDebianPackages(packages: readonly string[]): Promise<void> {
  const missing = missingPackages(packages);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new LabError(
      'missing-package',
      `Missing Debian packages: ${missing.join(', ')}. Install them with:\n  sudo sh -c '${command}'`,
    );
  }
  console.error(`Installing missing Debian packages: ${missing.join(', ')}`);
  for (const args of [['update'], ['install', '-y', ...missing]]) {
    const result = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new LabError(
        'missing-package',
        `apt-get ${args.join(' ')} failed (exit ${result.status}); run it by hand: ${command}`,
      );
    }
  }
  const stillMissing = missingPackages(missing);
  if (stillMissing.length > 0) {
    throw new LabError(
      'missing-package',
      `apt-get reported success but ${stillMissing.join(', ')} are still not installed`,
    );
  }
}

/** One dpkg-query for all names; unknown packages are simply absent from its output. */
function missingPackages(packages: readonly string[]): string[] {
  if (packages.length === 0) return [];
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\\n', ...packages], {
    encoding: 'utf8',
  });
  if (result.error) throw new LabError('missing-package', `cannot run dpkg-query: ${result.error.message}`);
  const installed = new Set(
    result.stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return packages.filter((name) => !installed.has(name));
}

// `node scripts/ensureDebianPackages.ts [package...]`: defaults to the lab's packages.
if (import.meta.main) {
  const wanted = process.argv.slice(2);
  try {
    await ensureDebianPackages(wanted.length > 0 ? wanted : LAB_PACKAGES);
    console.log('All Debian packages present.');
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
