import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XmlFramer, type FrameEvent } from '../../../app/xmpp/xmlFramer.ts';
import { MAX_ATTRIBUTES, MAX_NAME_BYTES } from '../../../app/xmpp/xmlScanner.ts';
import { seededRandom, serverHeader } from './harness.ts';

const LIMITS = { maxStanzaBytes: 4096, maxDepth: 8 };

/** Feeds the chunks and renders every event as a short string. */
function frame(chunks: (string | Uint8Array)[], limits = LIMITS): string[] {
  const f = new XmlFramer(limits);
  const out: string[] = [];
  for (const c of chunks) {
    f.push(typeof c === 'string' ? new TextEncoder().encode(c) : c);
    for (let e = f.next(); e; e = f.next()) out.push(render(e));
  }
  return out;
}

function render(e: FrameEvent): string {
  switch (e.type) {
    case 'stream-start':
      return `start ${e.header.attrs.id}`;
    case 'element':
      return `element ${e.element.getNS()} ${e.element.toString()}`;
    case 'stream-end':
      return 'end';
    case 'error':
      return `error ${e.code}`;
  }
}

const HEADER = serverHeader('s1');

test('frames the header, each top-level element and the end', () => {
  assert.deepEqual(
    frame([
      `${HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features> <message from='a@b/c'><body>x &amp; &lt;y&gt; &#x263A;</body></message></stream:stream>`,
    ]),
    [
      'start s1',
      'element http://etherx.jabber.org/streams <stream:features><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>',
      'element jabber:client <message from="a@b/c"><body>x &amp; &lt;y&gt; ☺</body></message>',
      'end',
    ],
  );
});

test('CDATA sections inside stanzas are text', () => {
  assert.deepEqual(frame([`${HEADER}<message><body><![CDATA[<b>&amp;]]]]></body></message>`]), [
    'start s1',
    'element jabber:client <message><body>&lt;b&gt;&amp;amp;]]</body></message>',
  ]);
});

// RFC 6120 §11.1: comments, processing instructions, DTDs and non-predefined entity references are forbidden.
const RESTRICTED: [string, string][] = [
  ['DTD before the header', `<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x "y">]>${HEADER}`],
  ['DTD inside the stream', `${HEADER}<!DOCTYPE foo>`],
  ['entity declaration', `${HEADER}<!ENTITY lol "lol">`],
  ['entity reference', `${HEADER}<message><body>&lol;</body></message>`],
  ['entity reference in an attribute', `${HEADER}<message to='&xxe;'/>`],
  ['processing instruction', `${HEADER}<?php echo 1 ?>`],
  ['XML declaration not at the start', `${HEADER}<message><?xml version='1.0'?></message>`],
  ['XML declaration after whitespace', ` <?xml version='1.0'?>`],
  ['comment', `${HEADER}<message><!-- hi --></message>`],
  ['comment before the header', `<!-- hi -->${HEADER}`],
];
for (const [name, input] of RESTRICTED) {
  test(`rejects ${name} with restricted-xml`, () => {
    const out = frame([input]);
    assert.equal(out.at(-1), 'error restricted-xml', out.join(' | '));
  });
}

const MALFORMED: [string, string][] = [
  ['mismatched end tag', `${HEADER}<message><body></message>`],
  ['bare ampersand', `${HEADER}<message><body>a & b</body></message>`],
  ['< in attribute', `${HEADER}<message to='a<b'/>`],
  ['duplicate attribute', `${HEADER}<message to='a' to='b'/>`],
  ['unquoted attribute', `${HEADER}<message to=a/>`],
  ['text between stanzas', `${HEADER}hello<message/>`],
  ['NUL byte', `${HEADER}<message>\u0000</message>`],
  ['illegal character reference', `${HEADER}<message>&#0;</message>`],
  ['end tag before header', `</stream:stream>`],
];
for (const [name, input] of MALFORMED) {
  test(`rejects ${name} with not-well-formed`, () => {
    const out = frame([input]);
    assert.equal(out.at(-1), 'error not-well-formed', out.join(' | '));
  });
}

test('rejects a non-UTF-8 encoding declaration', () => {
  assert.deepEqual(frame([`<?xml version='1.0' encoding='ISO-8859-1'?>`]), ['error unsupported-encoding']);
});

test('rejects invalid UTF-8', () => {
  const bad = new Uint8Array([
    ...new TextEncoder().encode(`${HEADER}<message><body>`),
    0xc3,
    0x28,
    ...new TextEncoder().encode('</body></message>'),
  ]);
  assert.deepEqual(frame([bad]), ['start s1', 'error not-well-formed']);
});

test('an oversized stanza is stanza-too-big, even when it never ends', () => {
  const big = `${HEADER}<message><body>${'x'.repeat(5000)}`;
  assert.deepEqual(frame([big]), ['start s1', 'error stanza-too-big']);
  // Just under the limit passes.
  const body = 'y'.repeat(4096 - `<message><body></body></message>`.length);
  assert.equal(frame([`${HEADER}<message><body>${body}</body></message>`])[1]?.startsWith('element'), true);
});

test('nesting deeper than maxDepth is policy-violation', () => {
  const ok = `${HEADER}${'<a>'.repeat(8)}${'</a>'.repeat(8)}`;
  assert.equal(frame([ok])[1]?.startsWith('element'), true);
  const deep = `${HEADER}${'<a>'.repeat(9)}`;
  assert.deepEqual(frame([deep]), ['start s1', 'error policy-violation']);
  assert.deepEqual(frame([`${HEADER}${'<a>'.repeat(8)}<b/>`]), ['start s1', 'error policy-violation']);
});

test('more attributes on one element than MAX_ATTRIBUTES is policy-violation', () => {
  const big = { maxStanzaBytes: 64 * 1024, maxDepth: 8 };
  const attrs = (n: number): string => Array.from({ length: n }, (_, k) => ` a${k}='${k}'`).join('');
  const ok = frame([`${HEADER}<message${attrs(MAX_ATTRIBUTES)}/>`], big);
  assert.equal(ok[1]?.startsWith('element jabber:client <message a0="0"'), true, ok[1]);
  assert.deepEqual(frame([`${HEADER}<message${attrs(MAX_ATTRIBUTES + 1)}/>`], big), [
    'start s1',
    'error policy-violation',
  ]);
  // The duplicate check still sees every earlier name of the tag, and only those of the same tag.
  assert.deepEqual(frame([`${HEADER}<message${attrs(200)} a7='x'/>`], big), ['start s1', 'error not-well-formed']);
  assert.equal(
    frame([`${HEADER}<message a='1'><b a='2'/></message>`])[1],
    'element jabber:client <message a="1"><b a="2"/></message>',
  );
});

test('an element or attribute name longer than MAX_NAME_BYTES is policy-violation', () => {
  const big = { maxStanzaBytes: 64 * 1024, maxDepth: 8 };
  const name = 'n'.repeat(MAX_NAME_BYTES);
  assert.equal(frame([`${HEADER}<${name} ${name}=''></${name}>`], big)[1]?.startsWith('element'), true);
  for (const input of [`<${name}x/>`, `<a ${name}x=''/>`, `<a></${name}x>`]) {
    assert.deepEqual(frame([`${HEADER}${input}`], big), ['start s1', 'error policy-violation'], input.slice(0, 8));
  }
});

test('UTF-8 split across chunks, and the same events at every split point', () => {
  const doc = `\uFEFF${HEADER}<message><body>héllo 😀 ☺ &amp;</body></message><presence/></stream:stream>`;
  const bytes = new TextEncoder().encode(doc);
  const whole = frame([bytes]);
  assert.equal(whole.length, 4);
  assert.match(whole[1]!, /héllo 😀 ☺ &amp;/);
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(frame([bytes.subarray(0, i), bytes.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(frame([...bytes].map((b) => Uint8Array.of(b))), whole, 'one byte at a time');
});

test('restricted constructs are caught across chunk boundaries', () => {
  const input = new TextEncoder().encode(`${HEADER}<message><!-- x --></message>`);
  for (let i = 1; i < input.length; i++) {
    const out = frame([input.subarray(0, i), input.subarray(i)]);
    assert.equal(out.at(-1), 'error restricted-xml', `split at ${i}`);
  }
});

test('reset() starts a new document and keeps the unparsed bytes', () => {
  const f = new XmlFramer(LIMITS);
  f.push(
    new TextEncoder().encode(`${HEADER}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>${serverHeader('s2')}<x/>`),
  );
  assert.equal(f.next()?.type, 'stream-start');
  assert.equal(f.next()?.type, 'element');
  f.reset();
  const again = f.next();
  assert.ok(again?.type === 'stream-start' && again.header.attrs.id === 's2');
  assert.equal(f.next()?.type, 'element');
  assert.equal(f.next(), undefined);
});

test('nothing after the stream end is parsed', () => {
  assert.deepEqual(frame([`${HEADER}</stream:stream><!-- late -->garbage`]), ['start s1', 'end']);
});

test('fuzz: random bytes and mutated streams never throw and stay bounded', () => {
  const rnd = seededRandom(0x5eed);
  const valid = new TextEncoder().encode(
    `${HEADER}<message to='a@b' id='1'><body>hi &amp; ☺</body></message><iq type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  let errors = 0;
  for (let n = 0; n < 400; n++) {
    let input: Uint8Array;
    if (n % 2 === 0) {
      input = Uint8Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256));
    } else {
      input = Uint8Array.from(valid);
      for (let k = 0; k < 3; k++) input[Math.floor(rnd() * input.length)] = Math.floor(rnd() * 256);
    }
    const cut = Math.floor(rnd() * input.length);
    const out = frame([input.subarray(0, cut), input.subarray(cut)], { maxStanzaBytes: 256, maxDepth: 4 });
    const errs = out.filter((e) => e.startsWith('error'));
    assert.ok(errs.length <= 1, 'at most one error');
    if (errs.length === 1) {
      assert.equal(out.at(-1), errs[0], 'the error is the last event');
      errors++;
    }
  }
  assert.ok(errors > 200, `most random inputs are rejected (${errors})`);
});
