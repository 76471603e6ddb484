/**
 * Contacts in the core (issue 13): SessionContacts over a fake stream driver (disco#info, the
 * XEP-0191 block list, subscription requests, request answers), and the contact commands over
 * real storage with a recording session: subscription answers, own presence, refusals in words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, type Element } from 'ltx';
import { ContactRequestError, SessionContacts, type ContactsCallbacks } from '../../../app/connect/sessionContacts.ts';
import type { StreamDriver } from '../../../app/connect/streamDriver.ts';
import type { StreamEvent } from '../../../app/xmpp/streamEvent.ts';
import type { OutgoingPresence } from '../../../app/xmpp/stanzas.ts';
import { contactEvents, contactHandlers } from '../../../app/core/contacts.ts';
import type { EventEnvelope } from '../../../app/contract/index.ts';
import { CoreError } from '../../../app/coreError.ts';
import { openStorage, type Storage } from '../../../app/storage/storage.ts';
import { MAX_PENDING_REQUESTS } from '../../../app/storage/subscriptionRequests.ts';

const JID = 'juliet@capulet.com';

/** A driver that records requests and presences; answers are handed in as events. */
function fakeDriver() {
  const requests: Element[] = [];
  const presences: OutgoingPresence[] = [];
  let n = 0;
  const driver = {
    state: 'online',
    sendRequest(build: (id: string) => Element): string {
      const id = `r${++n}`;
      requests.push(build(id));
      return id;
    },
    sendPresence(p?: OutgoingPresence) {
      presences.push(p ?? {});
    },
  };
  return { driver: driver as unknown as StreamDriver & { state: string }, requests, presences };
}

const result = (id: string, inner = ''): StreamEvent => ({
  type: 'iq-answer',
  id,
  ok: true,
  condition: null,
  text: null,
  result: parse(`<iq type='result' id='${id}'>${inner}</iq>`),
});

const presence = (
  from: string,
  type: 'subscribe' | 'unsubscribe' | 'unsubscribed',
  status: string | null = null,
): Extract<StreamEvent, { type: 'presence' }> => ({
  type: 'presence',
  from,
  presenceType: type,
  show: null,
  status,
  priority: 0,
  stanza: parse(`<presence from='${from}' type='${type}'/>`),
});

function contacts(over: Partial<ContactsCallbacks> = {}) {
  const calls: string[] = [];
  const c = new SessionContacts(JID, {
    log: (level, message) => calls.push(`log ${level} ${message}`),
    blockingSupported: (s) => calls.push(`supported ${s}`),
    blockList: (jids) => calls.push(`list ${jids.join(',')}`),
    blockPushed: (block, jids, all) => calls.push(`push ${block} ${jids.join(',')} ${all}`),
    ...over,
  });
  return { c, calls };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a fresh login asks the domain what it offers; with XEP-0191 it reads the block list', async () => {
  const { c, calls } = contacts();
  const d = fakeDriver();
  c.attach(d.driver, { resumed: false });
  assert.equal(d.requests.length, 1);
  assert.equal(d.requests[0]!.attrs.to, 'capulet.com');
  assert.ok(d.requests[0]!.getChild('query', 'http://jabber.org/protocol/disco#info'));
  c.handle(
    result('r1', `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:blocking'/></query>`),
  );
  await tick();
  assert.equal(c.canBlock, true);
  assert.ok(d.requests[1]!.getChild('blocklist', 'urn:xmpp:blocking'));
  c.handle(result('r2', `<blocklist xmlns='urn:xmpp:blocking'><item jid='iago@shakespeare.lit'/></blocklist>`));
  await tick();
  assert.deepEqual(calls, ['supported true', 'list iago@shakespeare.lit']);
  c.handle({ type: 'block-push', block: false, jids: [], all: true, dropped: 0 });
  assert.equal(calls.at(-1), 'push false  true');
});

test('a stream resumed from an earlier process asks too; one resumed after a disco#info in this process does not', async () => {
  const { c } = contacts();
  const first = fakeDriver();
  c.attach(first.driver, { resumed: true });
  assert.equal(first.requests.length, 1, 'resumed, but nothing learnt yet: disco#info');
  c.handle(result('r1', `<query xmlns='http://jabber.org/protocol/disco#info'/>`));
  await tick();
  c.detach();
  const second = fakeDriver();
  c.attach(second.driver, { resumed: true });
  assert.equal(second.requests.length, 0);
});

test('a server without XEP-0191: canBlock stays false and no block list is asked for', async () => {
  const { c, calls } = contacts();
  const d = fakeDriver();
  c.attach(d.driver, { resumed: false });
  c.handle(result('r1', `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:ping'/></query>`));
  await tick();
  assert.equal(c.canBlock, false);
  assert.equal(d.requests.length, 1);
  assert.deepEqual(calls, ['supported false']);
});

test('§3.1.3: a request from someone approved before is answered at once; others wait for the person', () => {
  const asked: string[] = [];
  const { c } = contacts({
    subscriptionRequested: (jid, message) => {
      asked.push(`${jid} ${message}`);
      return jid === 'romeo@montague.net' ? 'approve' : 'ask';
    },
  });
  const d = fakeDriver();
  c.attach(d.driver, { resumed: true });
  assert.equal(c.handle(presence('romeo@montague.net', 'subscribe')), true);
  assert.equal(c.handle(presence('iago@shakespeare.lit', 'subscribe', 'let me in')), true);
  assert.deepEqual(asked, ['romeo@montague.net null', 'iago@shakespeare.lit let me in']);
  assert.deepEqual(d.presences, [{ type: 'subscribed', to: 'romeo@montague.net' }]);
  // Not a subscription presence: left to the session's presence handling.
  assert.equal(c.handle({ ...presence('romeo@montague.net/x', 'subscribe'), presenceType: 'available' }), false);
});

test('requests fail in words: refused by the server, offline, or cut by the end of the stream', async () => {
  const { c } = contacts();
  const d = fakeDriver();
  c.attach(d.driver, { resumed: true }); // r1: the disco#info
  const refused = c.setRosterItem({ jid: 'romeo@montague.net' });
  c.handle({ type: 'iq-answer', id: 'r2', ok: false, condition: 'not-allowed', text: null, result: parse(`<iq/>`) });
  await assert.rejects(refused, (e: ContactRequestError) => e.code === 'refused' && e.condition === 'not-allowed');
  const cut = c.block(['romeo@montague.net'], true);
  c.detach();
  await assert.rejects(cut, (e: ContactRequestError) => e.code === 'stream-closed');
  await assert.rejects(
    c.setRosterItem({ jid: 'romeo@montague.net' }),
    (e: ContactRequestError) => e.code === 'account-offline',
  );
});

/** A recording session for the commands. */
function fakeSession(canBlock = true) {
  const sent: string[] = [];
  const session = {
    online: true,
    canBlock,
    announce: (choice: { show: string; status: string | null }) => (
      sent.push(`presence ${choice.show} ${choice.status}`),
      true
    ),
    sendSubscription: (type: string, jid: string) => sent.push(`${type} ${jid}`),
    setRosterItem: async (item: { jid: string; name?: string; remove?: boolean }) =>
      void sent.push(`roster ${item.jid} ${item.name ?? ''}${item.remove ? ' remove' : ''}`),
    block: async (jids: string[], block: boolean) => void sent.push(`${block ? 'block' : 'unblock'} ${jids.join(',')}`),
  };
  return { session, sent };
}

function setup(storage: Storage, session: ReturnType<typeof fakeSession>['session'] | null) {
  const events: EventEnvelope[] = [];
  const row = storage.listAccounts()[0] ?? storage.addAccount({ jid: JID });
  const handlers = contactHandlers({
    storage,
    emit: (e) => events.push(e),
    account: (id) => {
      const r = storage.getAccount(id);
      if (!r) throw new CoreError('account-not-found', 'That account no longer exists.');
      return r;
    },
    session: () => session as never,
    accountChanged: (id) => events.push({ name: 'account.resolved' as never, payload: id as never }),
  });
  return { handlers, events, accountId: row.id };
}

test('requests survive a restart, once each (the server redelivers them at login); answers resolve them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-contacts-'));
  try {
    const path = join(dir, 'profile.db');
    let storage = openStorage(path);
    const accountId = storage.addAccount({ jid: JID }).id;
    assert.ok(storage.addSubscriptionRequest(accountId, 'Romeo@Montague.net', 'hi', 1000));
    assert.equal(storage.addSubscriptionRequest(accountId, 'romeo@montague.net', 'again', 2000), null);
    assert.ok(storage.addSubscriptionRequest(accountId, 'iago@shakespeare.lit', null, 3000));
    storage.close();
    storage = openStorage(path);
    const { session, sent } = fakeSession();
    const { handlers, events } = setup(storage, session);
    assert.deepEqual(await handlers['subscription.pending']({}), [
      { accountId, jid: 'romeo@montague.net', message: 'hi', at: 1000 },
      { accountId, jid: 'iago@shakespeare.lit', message: null, at: 3000 },
    ]);
    // Approve: subscribed, and (not in the roster) a roster item and our own subscribe.
    await handlers['subscription.answer']({ accountId, jid: 'romeo@montague.net', approve: true });
    // Refuse: unsubscribed only.
    await handlers['subscription.answer']({ accountId, jid: 'iago@shakespeare.lit', approve: false });
    assert.deepEqual(sent, [
      'subscribed romeo@montague.net',
      'roster romeo@montague.net ',
      'subscribe romeo@montague.net',
      'unsubscribed iago@shakespeare.lit',
    ]);
    assert.deepEqual(
      events.filter((e) => e.name === 'subscription.resolved').map((e) => e.payload),
      [
        { accountId, jid: 'romeo@montague.net' },
        { accountId, jid: 'iago@shakespeare.lit' },
      ],
    );
    assert.deepEqual(await handlers['subscription.pending']({}), []);
    storage.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile: a flood of requests from many addresses stops at MAX_PENDING_REQUESTS per account', () => {
  const storage = openStorage(':memory:');
  const accountId = storage.addAccount({ jid: JID }).id;
  for (let i = 0; i < MAX_PENDING_REQUESTS; i++)
    assert.ok(storage.addSubscriptionRequest(accountId, `u${i}@spam.example`, null, i));
  assert.equal(storage.addSubscriptionRequest(accountId, 'one-more@spam.example', null, 0), null);
  assert.equal(storage.listSubscriptionRequests().length, MAX_PENDING_REQUESTS);
});

test('hostile: requests dropped for the cap are logged once per session, not once per request', () => {
  const storage = openStorage(':memory:');
  const accountId = storage.addAccount({ jid: JID }).id;
  const lines: string[] = [];
  const on = contactEvents({ storage, emit: () => {}, now: () => 1, log: (_l, m) => lines.push(m) }, accountId);
  for (let i = 0; i < MAX_PENDING_REQUESTS; i++) on.subscriptionRequested(`u${i}@spam.example`, null);
  // Redelivered at the cap: kept already, nothing was dropped, nothing to say.
  on.subscriptionRequested('u0@spam.example', null);
  assert.equal(lines.length, 0);
  on.subscriptionRequested('one-more@spam.example', null);
  on.subscriptionRequested('two-more@spam.example', null);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /1000 contact requests are waiting: newer ones are dropped/);
  // A new session (new callbacks) says it again, once.
  const next = contactEvents({ storage, emit: () => {}, now: () => 2, log: (_l, m) => lines.push(m) }, accountId);
  next.subscriptionRequested('three-more@spam.example', null);
  next.subscriptionRequested('four-more@spam.example', null);
  assert.equal(lines.length, 2);
});

test('RFC 6121: their unsubscribe withdraws their pending request; their unsubscribed (about OUR subscription) does not', () => {
  const withdrawn: string[] = [];
  const { c } = contacts({ subscriptionWithdrawn: (jid) => withdrawn.push(jid) });
  c.attach(fakeDriver().driver, { resumed: false });
  assert.equal(c.handle(presence('iago@shakespeare.lit', 'unsubscribed')), true);
  assert.deepEqual(withdrawn, []);
  assert.equal(c.handle(presence('iago@shakespeare.lit', 'unsubscribe')), true);
  assert.deepEqual(withdrawn, ['iago@shakespeare.lit']);
});

test('approving a contact we already see: only subscribed (no second subscribe)', async () => {
  const storage = openStorage(':memory:');
  const { session, sent } = fakeSession();
  const { handlers, accountId } = setup(storage, session);
  storage.upsertRosterItem(accountId, {
    jid: 'romeo@montague.net',
    name: 'Romeo',
    subscription: 'to',
    ask: false,
    groups: [],
  });
  await handlers['subscription.answer']({ accountId, jid: 'romeo@montague.net', approve: true });
  assert.deepEqual(sent, ['subscribed romeo@montague.net']);
});

test('presence.set is stored per account (for later logins) and announced at once', async () => {
  const storage = openStorage(':memory:');
  const { session, sent } = fakeSession();
  const { handlers, accountId } = setup(storage, session);
  assert.deepEqual(storage.ownPresence(accountId), { show: 'available', status: null });
  await handlers['presence.set']({ accountId, show: 'dnd', status: 'writing' });
  assert.deepEqual(storage.ownPresence(accountId), { show: 'dnd', status: 'writing' });
  await handlers['presence.set']({ show: 'away', status: '  ' });
  assert.deepEqual(storage.ownPresence(accountId), { show: 'away', status: null });
  assert.deepEqual(sent, ['presence dnd writing', 'presence away null']);
});

test('contact commands: add (roster set then subscribe), rename keeps groups, remove, block; refusals in words', async () => {
  const storage = openStorage(':memory:');
  const { session, sent } = fakeSession(false);
  const { handlers, accountId } = setup(storage, session);
  await handlers['contact.add']({ accountId, jid: 'Romeo@montague.net', name: 'Romeo' });
  assert.deepEqual(sent.splice(0), ['roster romeo@montague.net Romeo', 'subscribe romeo@montague.net']);
  await assert.rejects(async () => handlers['contact.rename']({ accountId, jid: 'romeo@montague.net', name: 'R' }), {
    code: 'contact-not-found',
  });
  storage.upsertRosterItem(accountId, {
    jid: 'romeo@montague.net',
    name: 'Romeo',
    subscription: 'both',
    ask: false,
    groups: ['Verona'],
  });
  await handlers['contact.rename']({ accountId, jid: 'romeo@montague.net', name: 'R' });
  await handlers['contact.remove']({ accountId, jid: 'romeo@montague.net' });
  assert.deepEqual(sent.splice(0), ['roster romeo@montague.net R', 'roster romeo@montague.net  remove']);
  await assert.rejects(
    async () => handlers['contact.block']({ accountId, jid: 'iago@shakespeare.lit', blocked: true }),
    (e: CoreError) => e.code === 'blocking-unsupported' && /does not offer blocking/.test(e.message),
  );
  session.canBlock = true;
  await handlers['contact.block']({ accountId, jid: 'iago@shakespeare.lit', blocked: true });
  assert.deepEqual(sent.splice(0), ['block iago@shakespeare.lit']);
  session.online = false;
  await assert.rejects(
    async () => handlers['contact.add']({ accountId, jid: 'a@b.example' }),
    (e: CoreError) => e.code === 'account-offline' && e.message === `${JID} is offline; connect it first.`,
  );
});

test('a server refusal becomes a CoreError with its condition and words', async () => {
  const storage = openStorage(':memory:');
  const { session } = fakeSession();
  session.setRosterItem = async () => {
    throw new ContactRequestError('refused', 'The server refused it: not allowed.', 'not-allowed');
  };
  const { handlers, accountId } = setup(storage, session);
  await assert.rejects(
    async () => handlers['contact.add']({ accountId, jid: 'romeo@montague.net' }),
    (e: CoreError) =>
      e instanceof CoreError &&
      e.code === 'not-allowed' &&
      e.message === 'Could not add romeo@montague.net: The server refused it: not allowed.',
  );
});

test('the block list is stored, pushed to, and emptied by an unblock-all', () => {
  const storage = openStorage(':memory:');
  const accountId = storage.addAccount({ jid: JID }).id;
  storage.replaceBlockList(accountId, ['Iago@Shakespeare.lit', 'spam.example', 'x@y.example/res']);
  assert.deepEqual(storage.listBlocked(accountId), ['iago@shakespeare.lit', 'spam.example', 'x@y.example/res']);
  storage.applyBlockPush(accountId, false, ['iago@shakespeare.lit']);
  storage.applyBlockPush(accountId, true, ['romeo@montague.net']);
  assert.deepEqual(storage.listBlocked(accountId), ['romeo@montague.net', 'spam.example', 'x@y.example/res']);
  storage.applyBlockPush(accountId, false, []);
  assert.deepEqual(storage.listBlocked(accountId), []);
});

test('contactEvents: an approved contact is answered at once; a request is stored and announced once; a withdrawal resolves it', () => {
  const storage = openStorage(':memory:');
  const accountId = storage.addAccount({ jid: JID }).id;
  const events: EventEnvelope[] = [];
  const changed: string[] = [];
  const on = contactEvents(
    {
      storage,
      emit: (e) => events.push(e),
      now: () => 42,
      blockedChanged: (_id, jids) => changed.push(jids.join(',')),
    },
    accountId,
  );
  storage.upsertRosterItem(accountId, {
    jid: 'romeo@montague.net',
    name: null,
    subscription: 'from',
    ask: false,
    groups: [],
  });
  assert.equal(on.subscriptionRequested('romeo@montague.net', null), 'approve');
  assert.equal(on.subscriptionRequested('iago@shakespeare.lit', 'hi'), 'ask');
  // Redelivered at the next login: no second row, no second event.
  assert.equal(on.subscriptionRequested('iago@shakespeare.lit', 'hi'), 'ask');
  on.subscriptionWithdrawn('iago@shakespeare.lit');
  on.subscriptionWithdrawn('iago@shakespeare.lit');
  assert.deepEqual(
    events.map((e) => e.name),
    ['subscription.requested', 'subscription.resolved'],
  );
  assert.deepEqual(events[0]!.payload, {
    request: { accountId, jid: 'iago@shakespeare.lit', message: 'hi', at: 42 },
  });
  events.length = 0;
  on.blockList(['iago@shakespeare.lit']);
  on.blockPushed(true, ['romeo@montague.net'], false);
  on.blockPushed(false, [], true);
  assert.deepEqual(
    events.map((e) => e.payload),
    [
      { accountId, jids: ['iago@shakespeare.lit'] },
      { accountId, jids: ['iago@shakespeare.lit', 'romeo@montague.net'] },
      { accountId, jids: [] },
    ],
  );
  assert.deepEqual(changed, ['iago@shakespeare.lit', 'romeo@montague.net', 'iago@shakespeare.lit,romeo@montague.net']);
});

test('a presence chosen while the stream was down is announced when the stream is resumed (XEP-0198 sends no initial presence)', () => {
  // Review: presence.set while offline only stored the choice; a resumed stream skips the initial
  // presence, so the server kept broadcasting the old one until the next fresh login.
  let choice: { show: 'available' | 'away' | 'dnd'; status: string | null } = { show: 'available', status: null };
  const { c } = contacts({ ownPresence: () => choice });
  const first = fakeDriver();
  c.attach(first.driver, { resumed: false });
  first.driver.sendPresence(c.initialPresence());
  c.detach();
  choice = { show: 'dnd', status: 'away from keys' };
  assert.equal(c.announce(choice), false, 'offline: stored only');
  const second = fakeDriver();
  c.attach(second.driver, { resumed: true });
  assert.deepEqual(second.presences, [{ show: 'dnd', status: 'away from keys' }]);
  // Resumed again with nothing changed: nothing is sent again.
  c.detach();
  const third = fakeDriver();
  c.attach(third.driver, { resumed: true });
  assert.deepEqual(third.presences, []);
});
