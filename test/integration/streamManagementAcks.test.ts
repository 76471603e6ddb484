/**
 * XEP-0198 acknowledgements end to end: the assembled core sends a message through the lab's
 * Prosody 0.12 (alpha.test, mod_smacks) and Prosody 13 (modern.test), and the server's <a/> moves
 * it from 'sent' to 'acked' in storage.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, type QuiverCore } from '../../app/core.ts';
import { FileSecretStore } from '../../app/storage/secretStore.ts';
import { labFromEnv } from '../support/lab.ts';
import { addOnlineLabAccount } from '../support/labAccounts.ts';
import { nextEvent } from '../support/events.ts';

const lab = labFromEnv();
let dataDir: string;
let core: QuiverCore;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quiver-sm-acks-'));
  core = await createCore({ dataDir, secrets: new FileSecretStore(join(dataDir, 'secrets.json')) });
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const addOnline = (jid: string): Promise<string> => addOnlineLabAccount(core, lab, jid);

for (const [from, to, server] of [
  ['alice@alpha.test', 'bob@alpha.test', 'Prosody 0.12 with mod_smacks'],
  ['alice@modern.test', 'bob@modern.test', 'Prosody 13'],
] as const) {
  test(`a message sent by ${from} (${server}) reaches 'acked' in storage`, async () => {
    const accountId = await addOnline(from);
    const body = `sm ack ${Date.now()}`;
    const states: string[] = [];
    const unsubscribe = core.subscribe((event) => {
      if (event.name === 'message.updated' && event.payload.message.body === body)
        states.push(event.payload.message.state);
    });
    try {
      const acked = nextEvent(
        core,
        'message.updated',
        (p) => p.message.accountId === accountId && p.message.body === body && p.message.state === 'acked',
      );
      const sent = await core.handlers['chat.send']({ accountId, to, body });
      const { message } = await acked;
      assert.equal(message.id, sent.id);
      assert.equal(message.stanzaId, sent.stanzaId);
      assert.deepEqual(states, ['sent', 'acked'], 'written, then acknowledged; never back');
      const history = await core.handlers['chat.history']({ accountId, peer: to });
      assert.equal(history.find((m) => m.id === sent.id)?.state, 'acked', 'stored as acked');
    } finally {
      unsubscribe();
    }
  });
}
