import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    await writeFile(join(staticDir, 'index.html'), '<!doctype html>');
    const core = createFakeCore();
    const printed: string[] = [];
    const opened: string[] = [];
    let coreOptions: CoreOptions | null = null;
    let secretPath = '';
    try {
      const served = await serveInBrowser(
        { port: 0, dataDir: '/tmp/quiver-data', open: true, build: false },
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
      );
      assert.equal(coreOptions!.dataDir, '/tmp/quiver-data');
      assert.equal(secretPath, '/tmp/quiver-data/secrets.json');
      assert.equal(printed.length, 1);
      assert.match(
        printed[0]!,
        /^Electron runtime not available on this machine; serving Quiver at http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+ instead/,
      );
      assert.deepEqual(opened, [served.url]);
      const page = await fetch(served.url);
      assert.equal(page.status, 200);
      await served.stop();
      assert.equal(core.closed, true);
      await assert.rejects(fetch(served.url));
    } finally {
      await rm(staticDir, { recursive: true, force: true });
    }
  });
});
