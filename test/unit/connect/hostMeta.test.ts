import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  hostMetaCandidates,
  parseHostMetaJson,
  parseHostMetaXrd,
  MAX_HOST_META_LINKS,
} from '../../../app/connect/hostMeta.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('XEP-0487 example: the c2s tls and quic links become links; s2s links are ignored; websocket/bosh are seen, not used', () => {
  const meta = parseHostMetaJson(JSON.parse(fixture('xep0487-example.json')));
  assert.equal(meta.format, 'jrd');
  assert.deepEqual(meta.xmpp, { ttl: 3000 });
  assert.deepEqual(meta.links, [
    {
      transport: 'tls',
      rel: 'urn:xmpp:alt-connections:tls',
      port: 443,
      priority: 10,
      weight: 50,
      sni: 'example.org',
      ips: ['1.2.3.4', 'fd00:feed:dad:beef::1'],
    },
    {
      transport: 'quic',
      rel: 'urn:xmpp:alt-connections:quic',
      port: 443,
      priority: 5,
      weight: 50,
      sni: 'example.org',
      ips: ['1.2.3.4', 'fd00:feed:dad:beef::1'],
    },
  ]);
  assert.deepEqual(meta.unused, [
    'urn:xmpp:alt-connections:websocket wss://other.example.org/xmpp-websocket',
    'urn:xmpp:alt-connections:xbosh https://web.example.com:5280/bosh',
  ]);
  assert.deepEqual(meta.problems, []);
});

test('Host Meta 2 candidates: source host-meta, insecure DNSSEC, the sni as host and hostMetaSni, the ips', () => {
  const meta = parseHostMetaJson(JSON.parse(fixture('xep0487-example.json')));
  const [tls, quic] = hostMetaCandidates(meta, 'https://example.org/.well-known/host-meta.json');
  assert.deepEqual(tls, {
    transport: 'tls',
    host: 'example.org',
    port: 443,
    priority: 10,
    weight: 50,
    source: 'host-meta',
    dnssec: 'insecure',
    record:
      'https://example.org/.well-known/host-meta.json urn:xmpp:alt-connections:tls 10 50 443 sni=example.org ips=1.2.3.4,fd00:feed:dad:beef::1',
    hostMetaSni: 'example.org',
    ips: ['1.2.3.4', 'fd00:feed:dad:beef::1'],
  });
  assert.equal(quic?.transport, 'quic');
});

test('XEP-0156 JRD: BOSH and WebSocket links are recorded as seen, and give no links', () => {
  const meta = parseHostMetaJson(JSON.parse(fixture('xep0156-example.json')));
  assert.equal(meta.xmpp, null);
  assert.deepEqual(meta.links, []);
  assert.deepEqual(meta.unused, [
    'urn:xmpp:alt-connections:xbosh https://web.example.com:5280/bosh',
    'urn:xmpp:alt-connections:websocket wss://web.example.com:443/ws',
  ]);
});

test('XEP-0156 XRD: read with the restricted-XML framer; links are seen, not used', () => {
  const meta = parseHostMetaXrd(fixture('xep0156-example.xrd'));
  assert.equal(meta.format, 'xrd');
  assert.deepEqual(meta.problems, []);
  assert.deepEqual(meta.links, []);
  assert.deepEqual(meta.unused, [
    'urn:xmpp:alt-connections:xbosh https://web.example.com:5280/bosh',
    'urn:xmpp:alt-connections:websocket wss://web.example.com:443/ws',
  ]);
});

test('XRD with a DOCTYPE / entities is refused unread (XEP-0487 §5, CVE-2022-0217)', () => {
  const hostile = `<?xml version='1.0'?><!DOCTYPE XRD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel="urn:xmpp:alt-connections:websocket" href="&b;"/></XRD>`;
  const meta = parseHostMetaXrd(hostile);
  assert.deepEqual(meta.unused, []);
  assert.equal(meta.problems.length, 1);
  assert.match(meta.problems[0]!, /not restricted XML/);
});

test('malformed XRD: wrong root, not XML, empty, too big', () => {
  assert.match(parseHostMetaXrd(`<html><body>not found</body></html>`).problems[0]!, /root element is <html>/);
  assert.match(parseHostMetaXrd(`{"links": []}`).problems[0]!, /no <XRD>|not restricted XML/);
  assert.match(parseHostMetaXrd('').problems[0]!, /no <XRD>/);
  assert.match(parseHostMetaXrd(`<XRD>${' '.repeat(70_000)}</XRD>`).problems[0]!, /more than/);
});

test('malformed JRD: not an object, links not an array, links not objects', () => {
  for (const json of [null, 42, 'links', [1, 2]]) {
    const meta = parseHostMetaJson(json);
    assert.deepEqual(meta.links, []);
    assert.match(meta.problems[0]!, /not a JSON object/);
  }
  assert.match(parseHostMetaJson({ links: {} }).problems[0]!, /not an array/);
  assert.match(
    parseHostMetaJson({ links: [7, { href: 'x' }] }).problems.join('\n'),
    /link 0: not an object.*\n.*link 1: not an object/,
  );
  assert.deepEqual(parseHostMetaJson({}).problems, [], 'no links at all is a valid, empty document');
});

test('XEP-0487 links missing a MANDATORY field, or with bad values, are skipped with a reason', () => {
  const good = {
    rel: 'urn:xmpp:alt-connections:tls',
    port: 5223,
    priority: 0,
    weight: 0,
    sni: 'Xmpp.Example.Org.',
    ips: ['192.0.2.1'],
  };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, port: undefined }, /"port"/],
    [{ ...good, port: 0 }, /"port"/],
    [{ ...good, port: 70_000 }, /"port"/],
    [{ ...good, port: '5223' }, /"port"/],
    [{ ...good, priority: -1 }, /"priority"/],
    [{ ...good, weight: 1.5 }, /"weight"/],
    [{ ...good, sni: undefined }, /"sni"/],
    [{ ...good, sni: 'bad name.example' }, /"sni"/],
    [{ ...good, sni: `${'a'.repeat(64)}.example` }, /"sni"/],
    [{ ...good, ips: undefined }, /"ips" is missing/],
    [{ ...good, ips: ['xmpp.example.org', 7] }, /no IPv4 or IPv6/],
  ];
  for (const [link, reason] of cases) {
    const meta = parseHostMetaJson({ xmpp: { ttl: 60 }, links: [link] });
    assert.deepEqual(meta.links, [], JSON.stringify(link));
    assert.match(meta.problems.join('\n'), reason, JSON.stringify(link));
  }
  const meta = parseHostMetaJson({ links: [good] });
  assert.deepEqual(meta.links[0]?.sni, 'xmpp.example.org', 'lower-cased, without the trailing dot');
  assert.deepEqual(meta.links[0]?.ips, ['192.0.2.1']);
});

test('the xmpp object without a valid ttl is reported; duplicate ips are merged; huge documents are cut', () => {
  assert.match(parseHostMetaJson({ xmpp: {} }).problems[0]!, /"ttl"/);
  const link = {
    rel: 'urn:xmpp:alt-connections:quic',
    port: 443,
    priority: 0,
    weight: 0,
    sni: 'example.org',
    ips: ['192.0.2.1', '192.0.2.1', '::1'],
  };
  assert.deepEqual(parseHostMetaJson({ links: [link] }).links[0]?.ips, ['192.0.2.1', '::1']);
  const many = parseHostMetaJson({ links: Array.from({ length: 100 }, (_, i) => ({ ...link, port: i + 1 })) });
  assert.equal(many.links.length, MAX_HOST_META_LINKS);
  assert.match(many.problems[0]!, /only the first 32/);
});
