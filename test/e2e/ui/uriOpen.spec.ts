/**
 * An `xmpp:` link the Electron shell hands the window (`uri.opened`, issue 13: "an xmpp: URI
 * handler (RFC 5122) in the Electron shell"): the chat opens from the account that fits, a
 * `?message;body=` link fills the composer and sends nothing, and with no fitting account the
 * window says so instead of guessing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openUi } from './harness.ts';
import { useUiSuite } from './harness.ts';
import { account } from './fixtures.ts';

useUiSuite();

const home = () => account('a1', 'alice@example.org', { status: 'online', order: 0 });
const work = () => account('a2', 'alice@work.example', { status: 'offline', order: 1, label: 'work.example' });

describe('xmpp: links from the shell', () => {
  it('opens the chat from the account on the same domain, with the body as a draft, sending nothing', async () => {
    const { page, core } = await openUi({ accounts: [home(), work()] });
    core.emit({
      name: 'uri.opened',
      payload: {
        target: { jid: 'bob@work.example', account: null, action: 'message', body: 'Hello from a link', name: null },
      },
    });
    await page.getByTestId('chat-pane').waitFor();
    assert.match(await page.getByTestId('chat-peer').innerText(), /bob@work\.example/);
    assert.match(await page.getByTestId('sending-as').innerText(), /alice@work\.example/);
    assert.equal(await page.getByTestId('chat-composer').inputValue(), 'Hello from a link');
    assert.equal(
      core.calls.some((c) => c.name === 'chat.send'),
      false,
      'a link never sends',
    );
  });

  it('opens from the first online account when no account is on that domain', async () => {
    const { page, core } = await openUi({ accounts: [work(), home()] });
    core.emit({
      name: 'uri.opened',
      payload: { target: { jid: 'carol@elsewhere.example', account: null, action: null, body: null, name: null } },
    });
    await page.getByTestId('chat-pane').waitFor();
    assert.match(await page.getByTestId('sending-as').innerText(), /alice@example\.org/);
  });

  it('opens from the account the link names (RFC 5122 authority), offline and on another domain', async () => {
    const { page, core } = await openUi({ accounts: [home(), work()] });
    core.emit({
      name: 'uri.opened',
      payload: {
        target: { jid: 'carol@elsewhere.example', account: 'alice@work.example', action: null, body: null, name: null },
      },
    });
    await page.getByTestId('chat-pane').waitFor();
    assert.match(await page.getByTestId('sending-as').innerText(), /alice@work\.example/);
  });

  it('a link naming an account that is not one of ours opens as if it named none', async () => {
    const { page, core } = await openUi({ accounts: [home(), work()] });
    core.emit({
      name: 'uri.opened',
      payload: {
        target: { jid: 'bob@work.example', account: 'mallory@evil.example', action: null, body: null, name: null },
      },
    });
    await page.getByTestId('chat-pane').waitFor();
    assert.match(await page.getByTestId('sending-as').innerText(), /alice@work\.example/);
  });

  it('says so instead of guessing when several accounts fit equally badly', async () => {
    const offline = account('a1', 'alice@example.org', { status: 'offline', order: 0 });
    const { page, core } = await openUi({ accounts: [offline, work()] });
    core.emit({
      name: 'uri.opened',
      payload: { target: { jid: 'carol@elsewhere.example', account: null, action: null, body: null, name: null } },
    });
    const banner = page.getByTestId('error-banner');
    await banner.waitFor();
    assert.match(await banner.innerText(), /carol@elsewhere\.example.*New chat/s);
    assert.equal(await page.getByTestId('chat-pane').count(), 0);
  });
});
