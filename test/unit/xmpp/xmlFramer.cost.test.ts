/**
 * Cost of framing hostile stanzas: no input within the stanza limit may cost more than time linear
 * in its size. Each shape is timed against a plain stanza of the same size (one long <body/>), so
 * the bound is a ratio of two times taken on the same machine at the same moment, not an absolute
 * time: it holds on a slow or busy machine and still fails clearly on quadratic work (the 60,000
 * attribute stanza below took 330-930 times the plain one when duplicate attributes were found by
 * a linear search).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XmlFramer } from '../../../app/xmpp/xmlFramer.ts';
import { MAX_ATTRIBUTES, MAX_NAME_BYTES } from '../../../app/xmpp/xmlScanner.ts';
import { serverHeader } from './harness.ts';

/** The size of the stanza that froze the core (issue 10, item 1). */
const SIZE = 492_000;
const LIMITS = { maxStanzaBytes: 1024 * 1024, maxDepth: 64 };
/**
 * Linear shapes that build many ltx objects (one element per 4 bytes, 256 attributes per tag) cost
 * 6-8 times the plain stanza on a developer machine; 20 leaves room for a busy shared machine.
 */
const MAX_RATIO = 20;
const RUNS = 7;

const encoder = new TextEncoder();
const header = encoder.encode(serverHeader('s1'));

/** `open`, then `unit(k)` for k = 0, 1, ... while it fits, then `close`: about SIZE bytes. */
function fill(open: string, unit: (k: number) => string, close: string): string {
  const parts = [open];
  let length = open.length + close.length;
  for (let k = 0; ; k++) {
    const u = unit(k);
    if (length + u.length > SIZE) break;
    parts.push(u);
    length += u.length;
  }
  parts.push(close);
  return parts.join('');
}

/** `count` distinct names of `length` bytes that differ only in their last four bytes. */
function names(count: number, length: number): string[] {
  return Array.from({ length: count }, (_, j) => 'a'.repeat(length - 4) + j.toString(36).padStart(4, '0'));
}

const manyAttrs = names(MAX_ATTRIBUTES, 8)
  .map((n) => ` ${n}=''`)
  .join('');
const longAttrs = names(38, MAX_NAME_BYTES)
  .map((n) => ` ${n}=''`)
  .join('');
let hostileAttrs = '';
for (let k = 0; hostileAttrs.length < SIZE - 20; k++) hostileAttrs += ` a${k.toString(36)}=''`;

const PLAIN = fill('<message><body>', () => 'x', '</body></message>');
const SHAPES: [string, string][] = [
  ['60,000 attributes on one element (refused, cheaply)', `<message${hostileAttrs}/>`],
  [`${MAX_ATTRIBUTES} attributes on each of many elements`, fill('<message>', () => `<x${manyAttrs}/>`, '</message>')],
  [
    `element and attribute names of ${MAX_NAME_BYTES} bytes`,
    fill('<message>', () => `<${'e'.repeat(MAX_NAME_BYTES)}${longAttrs}/>`, '</message>'),
  ],
  ['one empty element per four bytes', fill('<message>', () => '<a/>', '</message>')],
  ['entity and character references', fill('<message><body>', () => '&amp;&#x263A;', '</body></message>')],
  ['references in attribute values', fill('<message>', () => `<x a='&lt;&lt;&lt;&lt;'/>`, '</message>')],
  [
    'nesting to depth 9, over and over',
    fill('<message>', () => '<a><b><c><d><e><f><g><h></h></g></f></e></d></c></b></a>', '</message>'),
  ],
];

/** Milliseconds to frame `stanza` after a stream header, and what the framer made of it. */
function frameOnce(stanza: Uint8Array): { ms: number; outcome: string } {
  const f = new XmlFramer(LIMITS);
  f.push(header);
  assert.equal(f.next()?.type, 'stream-start');
  const t0 = performance.now();
  f.push(stanza);
  const ev = f.next();
  const ms = performance.now() - t0;
  return { ms, outcome: ev?.type === 'error' ? `error ${ev.code}` : String(ev?.type) };
}

test('framing cost is linear: each hostile shape within the limit costs at most 20x the time per byte of a plain stanza of the same size', () => {
  const plain = encoder.encode(PLAIN);
  assert.equal(frameOnce(plain).outcome, 'element');
  for (const [name, text] of SHAPES) {
    const bytes = encoder.encode(text);
    assert.ok(bytes.length > 0.9 * plain.length && bytes.length <= plain.length, `${name}: ${bytes.length} bytes`);
    // Time per byte, as a ratio: the shapes fill SIZE in units of up to 40 KB, so they are up to 10% shorter.
    const scale = plain.length / bytes.length;
    // Best of several interleaved runs: noise from other processes only ever adds time.
    let bestShape = Infinity;
    let bestPlain = Infinity;
    let outcome = '';
    for (let r = 0; r < RUNS; r++) {
      const s = frameOnce(bytes);
      outcome = s.outcome;
      bestShape = Math.min(bestShape, s.ms);
      bestPlain = Math.min(bestPlain, frameOnce(plain).ms);
      if (r >= 2 && bestShape * scale <= MAX_RATIO * bestPlain) break;
    }
    const ratio = (bestShape * scale) / bestPlain;
    assert.ok(
      ratio <= MAX_RATIO,
      `${name}: ${bestShape.toFixed(1)} ms for ${bytes.length} bytes against ${bestPlain.toFixed(1)} ms for the plain stanza (${ratio.toFixed(0)}x, ${outcome})`,
    );
    assert.match(outcome, name.includes('refused') ? /^error policy-violation$/ : /^element$/, name);
  }
});
