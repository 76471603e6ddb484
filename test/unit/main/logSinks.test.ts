/**
 * The hosts' log sinks write one line per record whatever the record quotes: a server's text with
 * a line break must not become a second, forged line on stderr.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CoreOptions } from '../../../app/core.ts';
import type { BrowserHostOptions } from '../../../app/host/browserHost.ts';
import { serveInBrowser } from '../../../scripts/start.ts';
import { createFakeCore } from '../../e2e/ui/fakeCore.ts';

const FORGED = 'bye\nquiver [info] alice@example.org: online\r\u0085';

test('npm start: the core log and the browser host log write one escaped line per record', async (t) => {
  const written: string[] = [];
  t.mock.method(console, 'error', (...args: unknown[]) => written.push(args.map(String).join(' ')));
  let coreOptions: CoreOptions | null = null;
  let hostOptions: BrowserHostOptions | null = null;
  const served = await serveInBrowser(
    { port: 0, dataDir: await mkdtemp(join(tmpdir(), 'quiver-log-')), open: false, build: false },
    '/nonexistent',
    {
      createCore: async (options) => ((coreOptions = options), createFakeCore()),
      startBrowserHost: async (options) => (
        (hostOptions = options),
        { url: 'http://127.0.0.1:1/#token=x', close: async () => undefined } as never
      ),
      secretStore: () => ({
        kind: 'file',
        get: async () => null,
        set: async () => undefined,
        delete: async () => undefined,
      }),
      print: () => undefined,
      openUrl: () => undefined,
    },
  );
  coreOptions!.log!('warn', `alice@example.org: example.org closed the stream. The server said: "${FORGED}".`);
  coreOptions!.log!('error', 'a command failed', new Error(FORGED));
  hostOptions!.log!('browser host: chat.send failed', new Error(FORGED));
  await served.stop();
  assert.equal(written.length, 3, written.join('\n---\n'));
  for (const line of written) {
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, line);
    assert.match(line, /bye\\u000aquiver \[info\] alice@example.org: online\\u000d\\u0085/);
  }
  assert.match(written[0]!, /^quiver \[warn\] alice@example.org: /);
  assert.match(written[2]!, /^quiver: browser host: chat.send failed: Error: bye/);
});
