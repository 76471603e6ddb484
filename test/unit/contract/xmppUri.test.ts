import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_XMPP_URI_LENGTH, parseXmppUri } from '../../../app/contract/xmppUri.ts';

const target = (text: string) => {
  const parsed = parseXmppUri(text);
  assert.ok(parsed.ok, `refused ${text}: ${parsed.ok ? '' : parsed.reason}`);
  return parsed.target;
};
const reason = (text: string) => {
  const parsed = parseXmppUri(text);
  assert.ok(!parsed.ok, `accepted ${text.slice(0, 80)}`);
  return parsed.reason;
};

describe('parseXmppUri', () => {
  it('reads the examples of RFC 5122', () => {
    // §2.3 / §2.4
    assert.deepEqual(target('xmpp:node@example.com'), {
      jid: 'node@example.com',
      account: null,
      action: null,
      body: null,
      name: null,
    });
    assert.equal(target('xmpp://guest@example.com/support@example.com?message').jid, 'support@example.com');
    assert.equal(target('xmpp://guest@example.com/support@example.com?message').action, 'message');
    // §2.3: the authority is the account the link suggests writing from, case-mapped as addresses are.
    assert.equal(target('xmpp://guest@example.com/support@example.com?message').account, 'guest@example.com');
    assert.equal(target('xmpp://Guest@Example.COM./support@example.com').account, 'guest@example.com');
    assert.equal(target('xmpp:example-node@example.com?message').action, 'message');
    // The resource is dropped: a chat opens with the contact, not one device.
    assert.equal(target('xmpp:node@example.com/some-resource').jid, 'node@example.com');
    // §2.7 examples of encoded characters: "nasty!#$%()*+,-.;=?[\]^_`{|}~node@example.com".
    assert.equal(
      target('xmpp:nasty!%23$%25()*+,-.;=%3F%5B%5C%5D%5E_%60%7B%7C%7D~node@example.com').jid,
      'nasty!#$%()*+,-.;=?[\\]^_`{|}~node@example.com',
    );
    // §2.7.2: a non-ASCII address, as IRI and as URI.
    assert.equal(target('xmpp:ji%C5%99i@%C4%8Dechy.example/v%20Praze').jid, 'jiři@čechy.example');
    assert.equal(target('xmpp:jiři@čechy.example').jid, 'jiři@čechy.example');
    assert.equal(target('xmpp:example.com').jid, 'example.com');
  });

  it('reads the XEP-0147 actions Quiver uses and keeps others as a plain chat', () => {
    assert.deepEqual(target('xmpp:romeo@montague.net?message;subject=Test;body=Here%27s%20a%20test%20message'), {
      jid: 'romeo@montague.net',
      account: null,
      action: 'message',
      body: "Here's a test message",
      name: null,
    });
    assert.deepEqual(target('xmpp:romeo@montague.net?roster;name=Romeo%20Montague;group=Friends'), {
      jid: 'romeo@montague.net',
      account: null,
      action: 'roster',
      body: null,
      name: 'Romeo Montague',
    });
    assert.equal(target('xmpp:romeo@montague.net?subscribe').action, 'subscribe');
    assert.equal(target('xmpp:coven@chat.shakespeare.lit?join').action, null);
    assert.equal(target('xmpp:romeo@montague.net?remove').action, null);
    assert.equal(target('XMPP:Romeo@Montague.NET#frag').jid, 'romeo@montague.net');
    // A body belongs to ?message only.
    assert.equal(target('xmpp:romeo@montague.net?roster;body=hi').body, null);
  });

  it('refuses hostile or broken input with a reason', () => {
    assert.match(reason('xmpp:%00@x'), /character/);
    assert.match(reason('xmpp:javascript:alert(1)'), /address/);
    assert.match(reason('javascript:alert(1)'), /not an xmpp: URI/);
    assert.match(reason('xmpp:'), /no address/);
    assert.match(reason('xmpp://guest@example.com'), /no address/);
    assert.match(reason('xmpp:%zz@example.com'), /percent escape/);
    assert.match(reason('xmpp:a%@example.com'), /percent escape/);
    assert.match(reason('xmpp:%C3%28@example.com'), /percent escape/, 'invalid UTF-8');
    assert.match(reason('xmpp:romeo@montague.net?message;body=%E0%A4%A'), /percent escape/);
    assert.match(reason('xmpp:romeo@montague.net?message;body=a%1Bb'), /control/);
    assert.match(reason('xmpp:a%E2%80%AEb@example.com'), /character/, 'a bidi override');
    assert.match(reason('xmpp://not an account/romeo@montague.net'), /account part/);
    assert.match(
      reason('xmpp://a%E2%80%AEb@example.com/romeo@montague.net'),
      /account part.*character/,
      'a bidi override',
    );
    assert.match(reason(`xmpp:romeo@montague.net?message;body=${'a'.repeat(MAX_XMPP_URI_LENGTH)}`), /longer than/);
    assert.match(reason(`xmpp:${'a'.repeat(10_000)}@example.com`), /longer than/);
    assert.match(reason(`xmpp:${'a'.repeat(2000)}@example.com`), /address/);
    assert.match(reason('xmpp:romeo@montague.net?message;body=' + 'b'.repeat(5000)), /too long/);
    assert.match(reason('xmpp:@example.com'), /address/);
    assert.match(reason('xmpp:romeo@exa mple.com'), /address/);
  });

  it('gives the address in the form the rest of Quiver stores and accepts (bare, no trailing dot, NFC)', () => {
    // RFC 7622 §3.3.1: "/" is disallowed in a localpart, and no domain has one: an encoded "/" in
    // the bare address would become a resource ("romeo@example.com/res") or another domain
    // ("romeo" with resource "x@example.com"), which conversation.start refuses.
    assert.match(reason('xmpp:romeo@example.com%2Fres'), /address/);
    assert.match(reason('xmpp:romeo%2Fx@example.com'), /address/);
    assert.match(reason('xmpp:example.com%2Fx'), /address/);
    // An encoded "/" inside the resource is the resource's own, and the resource is dropped anyway.
    assert.equal(target('xmpp:romeo@example.com/a%2Fb').jid, 'romeo@example.com');
    // RFC 7622 §3.2: a trailing dot "MUST be stripped" (storage keys drop it too).
    assert.equal(target('xmpp:romeo@example.com.').jid, 'romeo@example.com');
    // RFC 8265 §3.3.2 / storage's normalizeBareJid: NFC, so a decomposed "ř" is the same chat.
    assert.equal(target('xmpp:jir%CC%8Ci@%C4%8Dechy.example').jid, 'ji\u0159i@\u010Dechy.example');
    assert.equal(target('xmpp:c%CC%8Cechy.example').jid, '\u010Dechy.example');
  });

  it('keeps line breaks in a prefilled body', () => {
    assert.equal(target('xmpp:romeo@montague.net?message;body=one%0Atwo').body, 'one\ntwo');
  });
});
