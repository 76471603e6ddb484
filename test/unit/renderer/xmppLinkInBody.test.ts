/**
 * An xmpp: link in a message body comes from whoever sent the message: the chat it opens must be
 * one the core accepts and the window recognises (same address rules as the shell's links,
 * app/contract/xmppUri.ts), or none.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xmppUriJid } from '../../../renderer/src/chat/linkify.ts';

describe('xmppUriJid (links in message bodies)', () => {
  it('gives the address as the conversation list keys it (lower case, no trailing dot)', () => {
    // The core stores "romeo@example.com"; a chat opened as "Romeo@Example.COM" would never match
    // the messages and conversation events that name it.
    assert.equal(xmppUriJid('xmpp:Romeo@Example.COM'), 'romeo@example.com');
    assert.equal(xmppUriJid('xmpp:romeo@example.com.'), 'romeo@example.com');
  });

  it('opens nothing for an address the core would refuse', () => {
    for (const uri of [
      'xmpp:a%00b@example.com', // a control character
      'xmpp:a%E2%80%AEb@example.com', // a bidi override
      'xmpp:a:b@example.com', // ":" is not allowed in a localpart (RFC 7622 §3.3.1)
      'xmpp:romeo@exa_mple.com', // not a host name
      `xmpp:${'a'.repeat(1100)}@example.com`, // a localpart over 1023 octets
    ]) {
      assert.equal(xmppUriJid(uri), null, uri);
    }
  });
});
