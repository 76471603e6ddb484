/**
 * bin/quiver.js under an old Node: it must re-run itself with the project's Node 24 and exit with
 * the CLI's code. Runs a copy of the launcher in a temporary tree with a stand-in CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../../..');

function oldNode(): string | null {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (Number(version.slice(1).split('.')[0]) < 24) return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return null;
}

async function fakeTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quiver-bin-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'app', 'cli'), { recursive: true });
  await mkdir(join(dir, 'node_modules', 'node', 'bin'), { recursive: true });
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
  await copyFile(join(ROOT, 'bin', 'quiver.js'), join(dir, 'bin', 'quiver.js'));
  await writeFile(
    join(dir, 'app', 'cli', 'main.ts'),
    'export async function main(argv: readonly string[]): Promise<number> {\n' +
      '  console.log(JSON.stringify({ version: process.version, argv }));\n  return 3;\n}\n',
  );
  await symlink(join(ROOT, 'node_modules', 'node', 'bin', 'node'), join(dir, 'node_modules', 'node', 'bin', 'node'));
  return dir;
}

describe('bin/quiver.js', () => {
  const old = oldNode();
  test(
    'an old Node re-runs the launcher with the project Node 24 and exits with the CLI code',
    { skip: old === null ? 'no Node older than 24 on this machine' : false },
    async () => {
      const dir = await fakeTree();
      try {
        const result = spawnSync(old!, [join(dir, 'bin', 'quiver.js'), 'probe', 'example.org'], { encoding: 'utf8' });
        assert.equal(result.status, 3, result.stderr);
        const printed = JSON.parse(result.stdout) as { version: string; argv: string[] };
        assert.match(printed.version, /^v2[4-9]\./);
        assert.deepEqual(printed.argv, ['probe', 'example.org']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  test('the real launcher: --version and connect --help exit 0 on stdout, a usage error exits 2 with a pointer', () => {
    const bin = join(ROOT, 'bin', 'quiver.js');
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const versionRun = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    assert.equal(versionRun.status, 0, versionRun.stderr);
    assert.equal(versionRun.stdout, `quiver ${version}\n`);
    const help = spawnSync(process.execPath, [bin, 'connect', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: quiver connect <jid>/);
    assert.equal(help.stderr, '');
    const usage = spawnSync(process.execPath, [bin, 'probe'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr, "quiver: probe takes exactly one domain\nRun 'quiver probe --help' for usage.\n");
  });

  test('Node 24 runs the CLI directly', async () => {
    const dir = await fakeTree();
    try {
      const result = spawnSync(process.execPath, [join(dir, 'bin', 'quiver.js'), '--json'], { encoding: 'utf8' });
      assert.equal(result.status, 3, result.stderr);
      assert.deepEqual((JSON.parse(result.stdout) as { argv: string[] }).argv, ['--json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
