/**
 * An incoming message from the stream event to storage (issue 10, item 2): what the parser reports
 * is what storage deduplicates on, and a reused id with other content is kept with one log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'ltx';
import type { EventEnvelope } from '../../../app/contract/index.ts';
import { storeIncomingMessage } from '../../../app/core/incomingMessage.ts';
import { inboundMessage } from '../../../app/xmpp/inboundStanza.ts';
import { openStorage, type Storage } from '../../../app/storage/storage.ts';

const ACCOUNT = 'alice@example.org';

interface Rig {
  storage: Storage;
  accountId: string;
  logs: string[];
  added: string[];
  /** Feeds one stanza as the server delivers it, through the parser, to storage. */
  receive(xml: string): void;
}

function rig(t: { after(fn: () => void): void }): Rig {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: ACCOUNT }).id;
  const logs: string[] = [];
  const added: string[] = [];
  const deps = {
    storage,
    emit: (e: EventEnvelope) => {
      if (e.name === 'message.added') added.push(e.payload.message.body);
    },
    log: (_level: 'info' | 'warn' | 'error', message: string) => logs.push(message),
  };
  return {
    storage,
    accountId,
    logs,
    added,
    receive(xml) {
      const el = parse(xml.replace(/^<message/, `<message xmlns='jabber:client' to='${ACCOUNT}/quiver'`));
      const [event] = inboundMessage(el, { account: ACCOUNT, boundJid: `${ACCOUNT}/quiver` }).events;
      assert.ok(event?.type === 'message' && event.body !== null);
      storeIncomingMessage(deps, accountId, ACCOUNT, {
        from: event.from,
        direction: 'in',
        peer: event.from,
        id: event.id,
        originId: event.originId,
        serverId: event.serverId,
        body: event.body,
        sentAt: event.delay,
        via: 'live',
        notBefore: null,
      });
    },
  };
}

const SID = `xmlns='urn:xmpp:sid:0'`;

test("two different messages with id='1' from /phone and /laptop are both kept", (t) => {
  const r = rig(t);
  r.receive(`<message from='bob@example.org/phone' id='1' type='chat'><body>from the phone</body></message>`);
  r.receive(`<message from='bob@example.org/laptop' id='1' type='chat'><body>from the laptop</body></message>`);
  assert.deepEqual(r.added, ['from the phone', 'from the laptop']);
  assert.deepEqual(r.logs, []);
});

test("a redelivery with our own server's stanza-id is stored once, silently", (t) => {
  const r = rig(t);
  const xml = `<message from='bob@example.org/phone' id='m1' type='chat'><body>hi</body><stanza-id ${SID} id='srv-1' by='${ACCOUNT}'/></message>`;
  r.receive(xml);
  r.receive(xml);
  assert.deepEqual(r.added, ['hi']);
  assert.equal(r.storage.history(r.accountId, 'bob@example.org').length, 1);
  assert.deepEqual(r.logs, []);
});

test('a stanza-id stamped by anyone but the account (forged by the sender) is ignored', (t) => {
  const r = rig(t);
  r.receive(
    `<message from='bob@example.org/phone' id='m1' type='chat'><body>hi</body><stanza-id ${SID} id='srv-1' by='bob@example.org'/></message>`,
  );
  r.receive(
    `<message from='bob@example.org/phone' id='m1' type='chat'><body>hi</body><stanza-id ${SID} id='srv-1' by='bob@example.org'/></message>`,
  );
  assert.deepEqual(r.added, ['hi', 'hi'], 'no trusted id: nothing says the second is a copy');
  assert.deepEqual(r.logs, []);
});

test('origin-id with the same full JID and body is stored once; with another body both are kept and logged once', (t) => {
  const r = rig(t);
  const from = `from='bob@example.org/phone'`;
  r.receive(`<message ${from} id='a' type='chat'><body>pay alice</body><origin-id ${SID} id='o-1'/></message>`);
  r.receive(`<message ${from} id='b' type='chat'><body>pay alice</body><origin-id ${SID} id='o-1'/></message>`);
  assert.deepEqual(r.added, ['pay alice']);
  assert.deepEqual(r.logs, []);
  r.receive(`<message ${from} id='c' type='chat'><body>pay mallory</body><origin-id ${SID} id='o-1'/></message>`);
  assert.deepEqual(r.added, ['pay alice', 'pay mallory']);
  assert.equal(r.logs.length, 1);
  assert.match(
    r.logs[0]!,
    /^alice@example\.org: kept a message from "bob@example\.org\/phone" that reuses the origin-id "o-1" of stored message \d+ with other content/,
  );
});

test('an empty id is never used to deduplicate', (t) => {
  const r = rig(t);
  const xml = `<message from='bob@example.org/phone' id='' type='chat'><body>same</body><origin-id ${SID} id=''/><stanza-id ${SID} id='' by='${ACCOUNT}'/></message>`;
  r.receive(xml);
  r.receive(xml);
  assert.deepEqual(r.added, ['same', 'same']);
  assert.deepEqual(r.logs, []);
});

test('remote ids in the log line cannot forge a line', (t) => {
  const r = rig(t);
  const from = `from='bob@example.org/phone'`;
  const id = 'o-1&#10;2026-01-01 [error] fake line&#x85;&#x2028;';
  r.receive(`<message ${from}><body>a</body><origin-id ${SID} id='${id}'/></message>`);
  r.receive(`<message ${from}><body>b</body><origin-id ${SID} id='${id}'/></message>`);
  assert.equal(r.logs.length, 1);
  assert.doesNotMatch(r.logs[0]!, /[\n\r\u0085\u2028\u2029]/);
  assert.match(r.logs[0]!, /o-1\\n2026-01-01 \[error\] fake line\\u0085\\u2028/);
});

test('a carbon or archive copy of our own message is not stored twice, and confirms it stored', (t) => {
  const storage = openStorage(':memory:');
  t.after(() => storage.close());
  const accountId = storage.addAccount({ jid: ACCOUNT }).id;
  const { message: ours } = storage.insertMessage({
    accountId,
    peer: 'bob@example.org',
    direction: 'out',
    body: 'hello',
    stanzaId: 'our-1',
    at: 1000,
    state: 'sent',
  });
  const events: EventEnvelope[] = [];
  const deps = { storage, emit: (e: EventEnvelope) => events.push(e), log: () => undefined };
  const copy = {
    from: `${ACCOUNT}/quiver-1`,
    direction: 'out' as const,
    peer: 'bob@example.org',
    id: 'our-1',
    originId: 'our-1',
    serverId: 'archive-7',
    body: 'hello',
    sentAt: 1000,
    via: 'archive' as const,
    notBefore: null,
  };
  assert.equal(storeIncomingMessage(deps, accountId, ACCOUNT, copy, 2000).outcome, 'duplicate');
  assert.equal(storage.getMessage(ours.id)?.state, 'acked');
  assert.deepEqual(
    events.map((e) => e.name),
    ['message.updated'],
  );
  assert.equal(storage.history(accountId, 'bob@example.org').length, 1);
  // Another body under our id is not ours: kept, as a message of another device.
  assert.equal(
    storeIncomingMessage(deps, accountId, ACCOUNT, { ...copy, body: 'other', serverId: 'archive-8' }, 2000).outcome,
    'stored',
  );
});
