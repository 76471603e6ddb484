import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { CoreOptions } from '../../../app/core.ts';
import { startBrowserHost } from '../../../app/host/browserHost.ts';
import { electronBinary, parseStartArgs, serveInBrowser, StartUsageError } from '../../../scripts/start.ts';
import { createFakeCore } from '../../e2e/ui/fakeCore.ts';

describe('parseStartArgs', () => {
  test('defaults: any port, XDG data dir, open the browser, build', () => {
    assert.deepEqual(parseStartArgs([], { HOME: '/home/u', XDG_DATA_HOME: '/data' }), {
      port: 0,
      dataDir: '/data/quiver',
      open: true,
      build: true,
    });
    assert.equal(parseStartArgs([], { QUIVER_DATA_DIR: '/q' }).dataDir, '/q');
  });

  test('flags', () => {
    assert.deepEqual(parseStartArgs(['--port', '8123', '--data-dir', '/tmp/q', '--no-open', '--no-build'], {}), {
      port: 8123,
      dataDir: '/tmp/q',
      open: false,
      build: false,
    });
  });

  test('bad flags are usage errors with a sentence', () => {
    for (const argv of [['--port'], ['--port', 'x'], ['--port', '70000'], ['--verbose']]) {
      assert.throws(() => parseStartArgs(argv, {}), StartUsageError, argv.join(' '));
    }
  });
});

describe('electronBinary', () => {
  test('null when the electron package has no downloaded binary; the path when it has', async () => {
    const root = await mkdtemp(join(tmpdir(), 'quiver-electron-'));
    try {
      await mkdir(join(root, 'node_modules', 'electron', 'dist'), { recursive: true });
      assert.equal(electronBinary(root, {}), null);
      await writeFile(join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
      assert.equal(electronBinary(root, {}), null);
      await writeFile(join(root, 'node_modules', 'electron', 'dist', 'electron'), '');
      assert.equal(electronBinary(root, {}), join(root, 'node_modules', 'electron', 'dist', 'electron'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('serveInBrowser', () => {
  test('runs the browser host on the core with secrets.json in the data dir, prints one line, stops cleanly', async () => {
    const staticDir = await mkdtemp(join(tmpdir(), 'quiver-serve-'));
    const dataDir = await mkdtemp(join(tmpdir(), 'quiver-data-'));
    await writeFile(join(staticDir, 'index.html'), '<!doctype html>');
    const core = createFakeCore();
    const printed: string[] = [];
    const opened: string[] = [];
    let coreOptions: CoreOptions | null = null;
    let secretPath = '';
    let served: Awaited<ReturnType<typeof serveInBrowser>> | null = null;
    try {
      served = await serveInBrowser(
        { port: 0, dataDir, open: true, build: false },
        staticDir,
        {
          createCore: async (options) => ((coreOptions = options), core),
          startBrowserHost,
          secretStore: (path) => {
            secretPath = path;
            return { kind: 'file', get: async () => null, set: async () => undefined, delete: async () => undefined };
          },
          print: (line) => printed.push(line),
          openUrl: (url) => opened.push(url),
        },
        {},
      );
      assert.equal(coreOptions!.dataDir, dataDir);
      assert.equal(secretPath, join(dataDir, 'secrets.json'));
      assert.equal(printed.length, 1);
      assert.match(
        printed[0]!,
        /^Electron runtime not available on this machine; serving Quiver at http:\/\/127\.0\.0\.1:\d+\/ instead/,
      );
      // The opener's arguments are visible to every local user (`ps`): they carry no token, only
      // the path of a page that only this user can read, and that page leads to the host.
      const token = new URL(served.url).hash.replace('#token=', '');
      assert.ok(token.length >= 43);
      assert.equal(opened.length, 1);
      assert.ok(!opened[0]!.includes(token), `the opener is given ${opened[0]}`);
      assert.ok(!printed[0]!.includes(token), 'the token is printed');
      const launchFile = fileURLToPath(opened[0]!);
      assert.equal(launchFile, served.launchPage);
      assert.ok(launchFile.startsWith(join(dataDir, 'run') + '/'));
      assert.equal((await stat(join(dataDir, 'run'))).mode & 0o777, 0o700);
      assert.equal((await stat(launchFile)).mode & 0o777, 0o600);
      assert.ok((await readFile(launchFile, 'utf8')).includes(served.url));
      const page = await fetch(served.url);
      assert.equal(page.status, 200);
      const stopping = served;
      served = null;
      await stopping.stop();
      assert.equal(core.closed, true);
      await assert.rejects(fetch(stopping.url));
      await assert.rejects(stat(launchFile), { code: 'ENOENT' }, 'the page with the token outlives the host');
    } finally {
      await served?.stop();
      await rm(staticDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
