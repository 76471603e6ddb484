import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareJid, parseJid } from '../../../app/xmpp/jid.ts';

test('parseJid refuses an address from the network that carries a line break, NUL or bidi override', () => {
  // @xmpp/jid accepts all of these as they are; a bound JID or a presence `from` would carry them
  // into logs, the CLI's report and the UI.
  for (const bad of [
    'alice@example.org/x\n  server trusted',
    'alice\u0000@example.org',
    'bob@example.org/\u202etxt.exe',
  ]) {
    assert.equal(parseJid(bad), null, JSON.stringify(bad));
    assert.equal(bareJid(bad), null, JSON.stringify(bad));
  }
  assert.equal(parseJid('Alice@Example.org/Phone 1')?.bare, 'alice@example.org');
  assert.equal(parseJid('gateway_1.example.org')?.domain, 'gateway_1.example.org');
});
