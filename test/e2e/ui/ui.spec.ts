/**
 * The Svelte UI in Debian's Chromium, served by the real browser host (production CSP, token and
 * Origin checks) over a scriptable fake core (fakeCore.ts).
 * Every wait is on something the page shows (Playwright's locator waits), never a sleep.
 *
 * Run with `node_modules/.bin/node test/e2e/ui/run.ts` (builds the renderer first); running this
 * file alone with `node --test` builds it too unless QUIVER_UI_BUILT is set.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLaunchPage } from '../../../app/host/launchPage.ts';
import { openUi, row, shoot, useUiSuite } from './harness.ts';
import { account, contact, message, securityRecord } from './fixtures.ts';

useUiSuite();

describe('Quiver UI against the browser host and a fake core', () => {
  it('takes the token out of the address bar and keeps working after a reload', async () => {
    const { page, host, context } = await openUi({ accounts: [account('a1', 'alice@example.org')] });
    assert.ok(!page.url().includes('token'), `token still in ${page.url()}`);
    await row(page, 'alice@example.org').waitFor();
    await page.reload();
    await row(page, 'alice@example.org').waitFor();
    await host.waitForConnections(2);

    // A fresh tab without the token cannot reach the host, and says what to do.
    const stranger = await context.browser()!.newContext();
    try {
      const other = await stranger.newPage();
      await other.goto(host.pageUrl.replace(/#.*/, ''));
      assert.match(await other.getByTestId('fatal').innerText(), /open that link again/i);
    } finally {
      await stranger.close();
    }
  });

  it('opens from the 0600 launch page that `npm start` hands the browser instead of the token', async () => {
    const { host, context } = await openUi({ accounts: [account('a1', 'alice@example.org')] });
    const dir = await mkdtemp(join(tmpdir(), 'quiver-launch-'));
    const launch = await writeLaunchPage(dir, host.pageUrl);
    const fresh = await context.browser()!.newContext();
    try {
      const page = await fresh.newPage();
      await page.goto(launch.fileUrl);
      await row(page, 'alice@example.org').waitFor();
      assert.ok(page.url().startsWith('http://127.0.0.1:'), page.url());
      assert.ok(!page.url().includes('token'), `token still in ${page.url()}`);
    } finally {
      await fresh.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('adds an account: inline validation first, then success', async () => {
    const { page, core } = await openUi();
    await page.getByTestId('add-account').click();
    await page.getByTestId('account-submit').click();
    assert.match(await page.getByTestId('account-jid-error').innerText(), /Enter your address/);
    assert.match(await page.getByTestId('account-password-error').innerText(), /Enter the password/);

    await page.getByTestId('account-jid').fill('not an address');
    assert.match(await page.getByTestId('account-jid-error').innerText(), /not an XMPP address/);
    await page.getByTestId('account-jid').fill('bob@example.org');
    await page.getByTestId('account-jid-error').waitFor({ state: 'detached' });
    await page.getByTestId('account-password').fill('s3cret');

    await page.getByTestId('account-advanced').locator('summary').click();
    await page.getByTestId('account-resolver').fill('127.0.0.1');
    assert.match(await page.getByTestId('account-resolver-error').innerText(), /HOST:PORT/);
    await page.getByTestId('account-resolver').fill('127.0.0.1:5300');
    await page.getByTestId('account-ca-pem').fill('hello');
    assert.match(await page.getByTestId('account-ca-error').innerText(), /not a PEM certificate/);
    await page.getByTestId('account-ca-pem').fill('');
    await page.getByTestId('account-ca-file').setInputFiles({
      name: 'lab-ca.pem',
      mimeType: 'text/plain',
      buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
    });
    await page.waitForFunction(() =>
      (document.querySelector('[data-testid="account-ca-pem"]') as HTMLTextAreaElement).value.includes('BEGIN'),
    );
    await page.getByTestId('account-transport').selectOption('quic');
    assert.deepEqual(
      core.calls.map((c) => c.name).sort(),
      ['account.list', 'certificate.pending', 'conversation.list', 'subscription.pending'],
      'nothing but the start-up loads went to the host while the form was invalid',
    );
    await shoot(page, 'ui-add-account');

    // The real core answers with the session it just started; the fake one has none to start.
    core.addedStatus = 'connecting';
    await page.getByTestId('account-submit').click();
    await row(page, 'bob@example.org').and(page.locator('[data-status="connecting"]')).waitFor();
    const add = core.calls.find((c) => c.name === 'account.add');
    assert.deepEqual(add?.args, {
      jid: 'bob@example.org',
      password: 's3cret',
      resolver: '127.0.0.1:5300',
      resolverValidates: false,
      extraCaPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      transport: 'quic',
    });
    await page.getByTestId('account-form').waitFor({ state: 'detached' });
  });

  it('shows a server error in words, in the form and on the account', async () => {
    const { page, core } = await openUi({ accounts: [account('a1', 'alice@example.org', { status: 'online' })] });
    await page.getByTestId('add-account').click();
    await page.getByTestId('account-jid').fill('alice@example.org');
    await page.getByTestId('account-password').fill('pw');
    await page.getByTestId('account-submit').click();
    assert.equal(
      await page.getByTestId('account-form-error').innerText(),
      'alice@example.org is already set up in Quiver.',
    );
    await page.getByTestId('account-cancel').click();

    const message =
      'example.org presented a certificate for hosting.example.net and no DNSSEC or POSH proof delegates example.org to it.';
    core.emit({
      name: 'account.changed',
      payload: {
        account: account('a1', 'alice@example.org', { status: 'error', error: { code: 'bad-certificate', message } }),
      },
    });
    await row(page, 'alice@example.org').and(page.locator('[data-status="error"]')).waitFor();
    assert.equal(await row(page, 'alice@example.org').getByTestId('account-error').innerText(), message);
    assert.equal(await row(page, 'alice@example.org').getByTestId('account-status').innerText(), 'Error');
    await shoot(page, 'ui-account-error');

    core.failNext(
      'account.setEnabled',
      'storage-failed',
      'Quiver could not save the change: the disk is full. Free some space and try again.',
    );
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('account-enabled').uncheck();
    assert.match(await page.getByTestId('error-banner').innerText(), /the disk is full/);
    await page.getByTestId('error-banner-dismiss').click();
    await page.getByTestId('error-banner').waitFor({ state: 'detached' });
  });

  it('edits the settings of an account, keeping the password unless a new one is typed', async () => {
    const { page, core } = await openUi({
      accounts: [
        account('a1', 'alice@example.org', {
          settings: { resolver: '127.0.0.1:5300', resolverValidates: false, extraCaPem: null, transport: 'tls' },
        }),
      ],
    });
    const alice = row(page, 'alice@example.org');
    await alice.getByTestId('account-open').click();
    await page.getByTestId('account-settings').click();
    assert.equal(await page.getByTestId('account-resolver').inputValue(), '127.0.0.1:5300');
    assert.equal(await page.getByTestId('account-transport').inputValue(), 'tls');
    await page.getByTestId('account-transport').selectOption('starttls');
    await page.getByTestId('account-resolver').fill('');
    await shoot(page, 'ui-account-settings');
    await page.getByTestId('account-submit').click();
    await page.getByTestId('account-form').waitFor({ state: 'detached' });
    assert.deepEqual(core.calls.find((c) => c.name === 'account.update')?.args, {
      accountId: 'a1',
      resolver: null,
      resolverValidates: false,
      extraCaPem: null,
      transport: 'starttls',
    });
  });

  it('shows status changes live', async () => {
    const { page, core } = await openUi({ accounts: [account('a1', 'alice@example.org')] });
    const alice = row(page, 'alice@example.org');
    assert.equal(await alice.getByTestId('account-status').innerText(), 'Offline');
    for (const status of ['connecting', 'online', 'offline'] as const) {
      core.emit({ name: 'account.changed', payload: { account: account('a1', 'alice@example.org', { status }) } });
      await alice.and(page.locator(`[data-status="${status}"]`)).waitFor();
    }
    assert.equal(await alice.getByTestId('account-status').innerText(), 'Offline');
  });

  it('shows the roster with presence, updated live, and removes an account after confirmation', async () => {
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: {
        a1: [contact('bob@example.org', 'Bob', 'available', 'At the lab'), contact('carol@example.org', null, null)],
      },
    });
    const alice = row(page, 'alice@example.org');
    await alice.getByTestId('account-open').click();
    // The account's panel lists its contacts.
    const panel = page.getByTestId('account-panel');
    await panel.getByTestId('contact-row').nth(1).waitFor();
    const bob = panel.locator('[data-testid="contact-row"][data-jid="bob@example.org"]');
    assert.match(await bob.innerText(), /Bob[\s\S]+At the lab/);
    assert.equal(await bob.getByTestId('roster-presence').getAttribute('data-show'), 'available');

    core.emit({
      name: 'presence.changed',
      payload: { accountId: 'a1', jid: 'carol@example.org', presence: { show: 'dnd', status: 'In a meeting' } },
    });
    const carol = panel.locator('[data-testid="contact-row"][data-jid="carol@example.org"]');
    await carol.locator('[data-testid="roster-presence"][data-show="dnd"]').waitFor();
    assert.match(await carol.innerText(), /In a meeting/);

    core.emit({
      name: 'roster.changed',
      payload: { accountId: 'a1', items: [contact('dave@example.org', 'Dave', 'away')] },
    });
    await panel.locator('[data-testid="contact-row"][data-jid="dave@example.org"]').waitFor();
    assert.equal(await panel.getByTestId('contact-row').count(), 1);

    await panel.getByTestId('account-remove').click();
    await page.getByTestId('account-remove-cancel').click();
    assert.equal(await alice.count(), 1);
    await panel.getByTestId('account-remove').click();
    await page.getByTestId('remove-account-confirm').click();
    await alice.waitFor({ state: 'detached' });
    assert.ok(core.calls.some((c) => c.name === 'account.remove'));
  });

  it('sends a message: Enter sends, Shift+Enter is a new line, state marks follow the host', async () => {
    const now = Date.now();
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages: [
        message('m1', 'a1', 'bob@example.org', 'in', 'Hi Alice, is the QUIC lab up?', now - 120_000),
        message('m2', 'a1', 'bob@example.org', 'out', 'Yes, since this morning.', now - 60_000),
      ],
    });
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('contact-message').first().click();
    await page.getByTestId('message').nth(1).waitFor();

    const composer = page.getByTestId('chat-composer');
    await composer.fill('First line');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('second line <b>not bold</b>');
    await composer.press('Enter');
    const sent = page.locator('[data-testid="message"][data-direction="out"]').last();
    await page.getByTestId('message').nth(2).waitFor();
    assert.equal(await sent.getByTestId('message-body').innerText(), 'First line\nsecond line <b>not bold</b>');
    assert.equal(await sent.locator('b').count(), 0, 'a body is text, never HTML');
    assert.equal(await sent.getAttribute('data-state'), 'queued');
    assert.equal(await composer.inputValue(), '');
    assert.equal(await page.getByTestId('message').count(), 3, 'the event and the reply are the same message');

    const stored = core.data.messages.at(-1)!;
    core.emit({ name: 'message.updated', payload: { message: { ...stored, state: 'acked' } } });
    await page.locator(`[data-testid="message"][data-message-id="${stored.id}"][data-state="acked"]`).waitFor();

    await composer.fill('with the button');
    await page.getByTestId('chat-send').click();
    await page.getByTestId('message').nth(3).waitFor();
    await shoot(page, 'ui-chat');

    core.failNext(
      'chat.send',
      'not-connected',
      'alice@example.org is offline and the queue is full. Wait until it is online, then send again.',
    );
    await composer.fill('this one fails');
    await composer.press('Enter');
    assert.match(await page.getByTestId('chat-error').innerText(), /queue is full/);
    assert.equal(await composer.inputValue(), 'this one fails', 'a refused message stays in the composer');
  });

  it('shows incoming messages live, and counts them on conversations that are not open', async () => {
    const now = Date.now();
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available'), contact('carol@example.org', 'Carol', 'away')] },
    });
    const alice = row(page, 'alice@example.org');
    await alice.getByTestId('account-open').click();
    await page
      .locator('[data-testid="contact-row"][data-jid="bob@example.org"]')
      .getByTestId('contact-message')
      .click();
    await page.locator('[data-testid="chat-pane"][data-peer="bob@example.org"]').waitFor();

    core.receive(message('in-1', 'a1', 'bob@example.org', 'in', 'Did you see the verdict?', now));
    const incoming = page.locator('[data-testid="message"][data-direction="in"]');
    await incoming.waitFor();
    assert.equal(await incoming.getByTestId('message-body').innerText(), 'Did you see the verdict?');

    core.receive(message('in-2', 'a1', 'carol@example.org', 'in', 'Lunch?', now + 1));
    // The unread count is on the conversation, in the one list across accounts.
    const carol = page.locator('[data-testid="conversation-row"][data-peer="carol@example.org"]');
    assert.match(await carol.getByTestId('unread-count').innerText(), /^1\b/);
    await carol.click();
    await page.locator('[data-testid="chat-pane"][data-peer="carol@example.org"]').waitFor();
    await carol.getByTestId('unread-count').waitFor({ state: 'detached' });

    // A chat with an address that is not in the roster, through "New chat".
    await page.getByTestId('new-chat').click();
    await page.getByTestId('new-chat-dialog-jid').fill('not valid');
    await page.getByTestId('new-chat-dialog-start').click();
    await page.getByTestId('new-chat-dialog-error').waitFor();
    await page.getByTestId('new-chat-dialog-jid').fill('support@example.net');
    await page.getByTestId('new-chat-dialog-jid').press('Enter');
    await page.locator('[data-testid="chat-pane"][data-peer="support@example.net"]').waitFor();
  });

  it('pages older history when scrolled to the top', async () => {
    const start = Date.now() - 10_000_000;
    const messages = Array.from({ length: 120 }, (_, i) =>
      message(
        `h${String(i).padStart(3, '0')}`,
        'a1',
        'bob@example.org',
        i % 2 ? 'out' : 'in',
        `message number ${i}`,
        start + i * 60_000,
      ),
    );
    const { page } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      rosters: { a1: [contact('bob@example.org', 'Bob', 'available')] },
      messages,
    });
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('contact-message').click();
    // The list is virtualised (chat.spec.ts): only rows near the view are in the DOM.
    await page.locator('[data-message-id="h119"]').waitFor();
    await page.getByTestId('message-list').evaluate((el) => el.scrollTo(0, 0));
    await page.locator('[data-message-id="h070"]').waitFor();
    await page.getByTestId('message-list').evaluate((el) => el.scrollTo(0, 0));
    await page.locator('[data-message-id="h000"]').waitFor();
    assert.equal(await page.getByTestId('message-body').first().innerText(), 'message number 0');
  });

  it('renders the security records of an account, with live updates', async () => {
    const now = Date.now();
    const { page, core } = await openUi({
      accounts: [account('a1', 'alice@example.org', { status: 'online' })],
      records: [
        securityRecord('r1', 'a1', now - 3_600_000, {
          endedAt: now - 1_800_000,
          endReason: 'The network changed; Quiver reconnected.',
        }),
      ],
    });
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('account-security').click();
    const first = page.locator('[data-testid="security-record"][data-record-id="r1"]');
    await first.waitFor();
    // The summary at a glance, in words (issue 13): the verdict, what proved the domain, TLS, the route, the login.
    assert.equal(await first.getByTestId('security-verdict').innerText(), 'Verified');
    assert.match(
      await first.getByTestId('security-summary').innerText(),
      /the certificate proves example\.org \(DANE-EE, DNS-ID xmpp\.example\.org\) · TLS 1\.3 · QUIC to xmpp\.example\.org:5222 · SCRAM-SHA-256-PLUS with channel binding/,
    );
    // The details one click away.
    await first.locator('summary').click();
    assert.equal(await first.getByTestId('security-identity').innerText(), 'DNS-ID xmpp.example.org');
    assert.equal(await first.getByTestId('security-certificate').count(), 2);
    const text = await first.innerText();
    for (const fact of [
      'QUIC',
      'xmpp.example.org:5222',
      '_xmppq-client._udp.example.org.',
      'Signed and validated (DNSSEC)',
      'TLS 1.3',
      'TLS_AES_128_GCM_SHA256',
      'xmpp-client',
      'SCRAM-SHA-256-PLUS',
      'Your password was never sent',
      'tls-exporter (RFC 9266)',
      '3f'.repeat(32),
      '_xmpp-client.example.org (SRV name)',
      'The network changed; Quiver reconnected.',
    ]) {
      assert.ok(text.includes(fact), `security record shows ${fact}`);
    }
    // No raw tokens reach the person.
    for (const token of ['dns-id:', 'srv:_', 'xmpp:example', 'user-accepted-once']) {
      assert.ok(!text.includes(token), `security record shows no raw token ${token}`);
    }

    core.emit({
      name: 'connection.recorded',
      payload: {
        record: securityRecord('r2', 'a1', now, {
          transport: 'starttls',
          source: 'srv:_xmpp-client._tcp',
          dnssec: 'insecure',
          alpn: null,
          verification: {
            trusted: false,
            prooftype: null,
            identity: null,
            delegation: null,
            dnssec: 'insecure',
            decision: 'unproven',
            tried: [
              { prooftype: 'pkix', ok: false, detail: 'the certificate names hosting.example.net, not example.org' },
              {
                prooftype: 'posh',
                ok: false,
                detail: 'no POSH file at https://example.org/.well-known/posh/xmpp-client.json',
              },
            ],
            error: {
              code: 'bad-certificate',
              message:
                'example.org presented a certificate for hosting.example.net and no DNSSEC or POSH proof delegates example.org to it.',
            },
          },
          endedAt: now,
          endReason: 'Certificate not trusted',
        }),
      },
    });
    const second = page.locator('[data-testid="security-record"][data-record-id="r2"][data-trusted="false"]');
    await second.waitFor();
    assert.equal(
      await page.getByTestId('security-record').first().getAttribute('data-record-id'),
      'r2',
      'newest first',
    );
    assert.match(
      await second.getByTestId('security-summary').innerText(),
      /^Not trusted: nothing proved the server is example\.org/,
    );
    await second.locator('summary').click();
    assert.match(await second.getByTestId('security-verdict-error').innerText(), /no DNSSEC or POSH proof/);
    assert.match(await second.getByTestId('security-tried').innerText(), /hosting\.example\.net/);
    await shoot(page, 'ui-security');
  });

  it('says so when the link to the host drops, fails what was in flight, then recovers and reloads', async () => {
    const ui = await openUi({
      accounts: [account('a1', 'alice@example.org')],
      rosters: { a1: [contact('bob@example.org', 'Bob', null)] },
    });
    const { page, core, host } = ui;
    // Chromium logs each refused reconnect attempt while the host is away.
    ui.allowed.push(/WebSocket connection to '.*' failed/);
    await host.waitForConnections(1);
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('contact-message').click();
    core.holdNext('chat.send');
    await page.getByTestId('chat-composer').fill('in flight');
    await page.getByTestId('chat-composer').press('Enter');
    await core.waitForHeld();
    await host.dropConnections();
    const banner = page.getByTestId('connection-banner');
    assert.match(await banner.innerText(), /Quiver has stopped/);
    assert.match(await page.getByTestId('chat-error').innerText(), /connection to Quiver was lost before it answered/);
    assert.equal(await page.getByTestId('chat-composer').inputValue(), 'in flight');
    // Changed while the window was cut off: the reload after reconnecting must pick it up.
    core.data.accounts[0]!.status = 'online';
    await host.waitForRefusals(2);
    await host.resume();
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await row(page, 'alice@example.org').and(page.locator('[data-status="online"]')).waitFor();
  });

  it('looks right in dark mode', async () => {
    const now = Date.now();
    const { page } = await openUi(
      {
        accounts: [
          account('a1', 'alice@example.org', { status: 'online' }),
          account('a2', 'alice@work.example', { status: 'connecting' }),
          account('a3', 'old@example.net', { status: 'disabled', enabled: false }),
        ],
        rosters: {
          a1: [
            contact('bob@example.org', 'Bob', 'available', 'At the lab'),
            contact('carol@example.org', 'Carol', 'away'),
          ],
        },
        messages: [
          message('m1', 'a1', 'bob@example.org', 'in', 'Is the QUIC listener on 5222 up?', now - 90_000),
          message('m2', 'a1', 'bob@example.org', 'out', 'Yes, and DANE checks out.', now - 60_000),
          message('m3', 'a1', 'bob@example.org', 'out', 'Sending from the train', now - 1_000, 'queued'),
        ],
      },
      'dark',
    );
    await row(page, 'alice@example.org').getByTestId('account-open').click();
    await page.getByTestId('contact-message').first().click();
    await page.getByTestId('message').nth(2).waitFor();
    await shoot(page, 'ui-chat-dark');
  });
});
