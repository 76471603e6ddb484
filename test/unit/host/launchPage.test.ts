import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { launchPageDir, LaunchPageError, pageFor, writeLaunchPage } from '../../../app/host/launchPage.ts';

const URL_WITH_TOKEN = 'http://127.0.0.1:8123/#token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('writeLaunchPage', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'quiver-launch-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('creates the directory 0700 and the page 0600; the page forwards to the URL; remove() deletes it', async () => {
    const dir = join(root, 'new', 'quiver');
    const page = await writeLaunchPage(dir, URL_WITH_TOKEN);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(page.path)).mode & 0o777, 0o600);
    assert.equal(fileURLToPath(page.fileUrl), page.path);
    assert.ok(!page.fileUrl.includes('token'));
    assert.equal(await readFile(page.path, 'utf8'), pageFor(URL_WITH_TOKEN));
    assert.match(
      pageFor(URL_WITH_TOKEN),
      /<meta http-equiv="refresh" content="0;url=http:\/\/127\.0\.0\.1:8123\/#token=A{43}">/,
    );
    await page.remove();
    await assert.rejects(stat(page.path), { code: 'ENOENT' });
  });

  test('a directory of ours that others can enter is tightened to 0700', async () => {
    const dir = join(root, 'loose');
    await mkdir(dir);
    await chmod(dir, 0o755);
    const page = await writeLaunchPage(dir, URL_WITH_TOKEN);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    await page.remove();
  });

  test('a symlink in place of the directory is refused with a sentence', async () => {
    const target = join(root, 'elsewhere');
    await mkdir(target, { mode: 0o755 });
    const link = join(root, 'link');
    await symlink(target, link);
    await assert.rejects(writeLaunchPage(link, URL_WITH_TOKEN), (error: unknown) => {
      assert.ok(error instanceof LaunchPageError);
      assert.equal(error.code, 'launch-page');
      assert.match(error.message, /not a directory of yours.*start Quiver again/);
      return true;
    });
  });

  test('quotes are escaped in the page', () => {
    assert.ok(!pageFor('http://x/"><script>').includes('"><script>'));
  });
});

describe('launchPageDir', () => {
  test('$XDG_RUNTIME_DIR/quiver when set to an absolute path, else <dataDir>/run', () => {
    assert.equal(launchPageDir('/d', { XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/quiver');
    assert.equal(launchPageDir('/d', { XDG_RUNTIME_DIR: 'relative' }), '/d/run');
    assert.equal(launchPageDir('/d', {}), '/d/run');
  });
});
