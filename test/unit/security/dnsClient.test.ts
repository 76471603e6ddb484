import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import { parseResolvConf, parseServer } from '../../../app/security/dnsClient.ts';
import { createDnsClient } from '../../../app/security/driver/dnsClient.ts';
import { SecurityError } from '../../../app/security/securityError.ts';
import { reply, startFakeDns, type Script } from './fakeDnsServer.ts';

const AD = dnsPacket.AUTHENTIC_DATA;
const SRV_ANSWERS: dnsPacket.Answer[] = [
  {
    type: 'SRV',
    name: '_xmpp-client._tcp.alpha.test',
    ttl: 300,
    data: { priority: 10, weight: 5, port: 5222, target: 'xmpp.alpha.test' },
  },
  {
    type: 'SRV',
    name: '_xmpp-client._tcp.alpha.test',
    ttl: 60,
    data: { priority: 20, weight: 0, port: 5223, target: 'Backup.Alpha.Test' },
  },
];

async function serve(t: TestContext, script: Script) {
  const server = await startFakeDns(script);
  t.after(() => server.close());
  return server;
}

function isCode(code: string) {
  return (error: unknown) => error instanceof SecurityError && error.code === code;
}

test('SRV over UDP from a loopback validating resolver: records, AD trusted -> secure; the query sets RD and DO, not CD', async (t) => {
  const server = await serve(t, (query) => [reply(query, { answers: SRV_ANSWERS, flags: AD })]);
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  assert.equal(client.trustAd, true);
  const answer = await client.srv('_xmpp-client._tcp.alpha.test');
  assert.deepEqual(answer, {
    rcode: 'NOERROR',
    records: [
      { priority: 10, weight: 5, port: 5222, target: 'xmpp.alpha.test', ttl: 300 },
      { priority: 20, weight: 0, port: 5223, target: 'backup.alpha.test', ttl: 60 },
    ],
    dnssec: 'secure',
    authenticData: true,
    ttl: 60,
    negativeTtl: null,
  });
  const query = server.queries[0];
  assert.ok(query);
  assert.equal(query.transport, 'udp');
  assert.equal(query.packet.flag_rd, true);
  assert.equal(query.packet.flag_cd, false);
  const opt = query.packet.additionals?.find((record) => record.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  assert.ok(opt, 'an EDNS OPT record');
  assert.equal(opt.flag_do, true);
  assert.deepEqual(query.packet.questions, [{ name: '_xmpp-client._tcp.alpha.test', type: 'SRV', class: 'IN' }]);
});

test('AD is not believed unless trusted; no AD is insecure', async (t) => {
  const server = await serve(t, (query) => [
    reply(query, { answers: SRV_ANSWERS, flags: query.packet.questions?.[0]?.name.startsWith('ad') ? AD : 0 }),
  ]);
  const distrustful = createDnsClient({ server: server.address, trustAd: false, timeoutMs: 1000 });
  const answer = await distrustful.query('ad.alpha.test', 'SRV');
  assert.equal(answer.authenticData, true);
  assert.equal(answer.dnssec, 'insecure');
  const trusting = createDnsClient({ server: server.address, timeoutMs: 1000 });
  assert.equal((await trusting.query('plain.alpha.test', 'SRV')).dnssec, 'insecure');
});

test('trustAd defaults to false for a resolver that is not on loopback', () => {
  assert.equal(createDnsClient({ server: '192.0.2.53' }).trustAd, false);
  assert.equal(createDnsClient({ server: '[::1]:5353' }).trustAd, true);
  assert.equal(createDnsClient({ server: '127.0.0.53' }).trustAd, true);
});

test('SERVFAIL from a trusted validating resolver is bogus; NXDOMAIN is passed on', async (t) => {
  const server = await serve(t, (query) => [
    reply(query, { rcode: query.packet.questions?.[0]?.name === 'bogus.test' ? 2 : 3, flags: AD }),
  ]);
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const bogus = await client.query('bogus.test', 'TLSA');
  assert.equal(bogus.rcode, 'SERVFAIL');
  assert.equal(bogus.dnssec, 'bogus');
  const missing = await client.query('missing.test', 'A');
  assert.equal(missing.rcode, 'NXDOMAIN');
  assert.deepEqual(missing.records, []);
  assert.equal(missing.dnssec, 'secure');
  const untrusted = createDnsClient({ server: server.address, timeoutMs: 1000, trustAd: false });
  assert.equal((await untrusted.query('bogus.test', 'TLSA')).dnssec, 'insecure');
});

test('spoofed answers (wrong ID, wrong question, a query) are dropped and the real answer is taken', async (t) => {
  const server = await serve(t, (query) => {
    const id = query.packet.id ?? 0;
    return [
      reply(query, { id: (id + 1) & 0xffff, answers: [{ type: 'A', name: 'alpha.test', data: '6.6.6.6' }] }),
      reply(query, {
        question: { type: 'A', name: 'evil.test', class: 'IN' },
        answers: [{ type: 'A', name: 'evil.test', data: '6.6.6.6' }],
      }),
      reply(query, { question: { type: 'AAAA', name: 'alpha.test', class: 'IN' } }),
      dnsPacket.encode({ type: 'query', id, questions: query.packet.questions ?? [] }),
      Buffer.from([0x01]),
      reply(query, { answers: [{ type: 'A', name: 'alpha.test', ttl: 30, data: '192.0.2.1' }] }),
    ];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const answer = await client.query('alpha.test', 'A');
  assert.deepEqual(answer.records, ['192.0.2.1']);
  assert.equal(server.queries.length, 1);
});

test('a truncated UDP answer is asked again over TCP', async (t) => {
  const server = await serve(t, (query) =>
    query.transport === 'udp'
      ? [reply(query, { flags: dnsPacket.TRUNCATED_RESPONSE, answers: SRV_ANSWERS.slice(0, 1) })]
      : [reply(query, { answers: SRV_ANSWERS, flags: AD })],
  );
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const answer = await client.srv('_xmpp-client._tcp.alpha.test');
  assert.equal(answer.records.length, 2);
  assert.equal(answer.dnssec, 'secure');
  assert.deepEqual(
    server.queries.map((query) => query.transport),
    ['udp', 'tcp'],
  );
  assert.notEqual(server.queries[0]?.packet.id, undefined);
});

test('a malformed answer with our ID is retried once, then reported as dns-malformed', async (t) => {
  const server = await serve(t, (query) => {
    const header = reply(query).subarray(0, 12);
    header.writeUInt16BE(1, 6); // one answer that is not there
    return [header];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  await assert.rejects(client.query('alpha.test', 'A'), isCode('dns-malformed'));
  assert.equal(server.queries.length, 2);
  assert.notEqual(server.queries[0]?.packet.id, server.queries[1]?.packet.id);
});

test('a malformed first answer and a good retry: the retry wins', async (t) => {
  let count = 0;
  const server = await serve(t, (query) => {
    count += 1;
    if (count === 1) return [Buffer.concat([reply(query).subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])])];
    return [reply(query, { answers: [{ type: 'A', name: 'alpha.test', data: '192.0.2.7' }] })];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  assert.deepEqual((await client.query('alpha.test', 'A')).records, ['192.0.2.7']);
});

test('absurd record counts are refused without decoding them', async (t) => {
  const server = await serve(t, (query) => {
    const message = reply(query, { answers: [{ type: 'A', name: 'alpha.test', data: '192.0.2.1' }] });
    message.writeUInt16BE(0xffff, 6);
    return [message];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  await assert.rejects(
    client.query('alpha.test', 'A'),
    (error: unknown) => isCode('dns-malformed')(error) && /absurd/.test((error as Error).message),
  );
});

test('silence: one retry, then dns-timeout with a message naming the server', async (t) => {
  const server = await serve(t, () => []);
  const client = createDnsClient({ server: server.address, timeoutMs: 150 });
  await assert.rejects(
    client.query('alpha.test', 'AAAA'),
    (error: unknown) => isCode('dns-timeout')(error) && (error as Error).message.includes(server.address),
  );
  assert.equal(server.queries.length, 2);
});

test('nobody listening (ICMP port unreachable): dns-network, without waiting for the timeout', async () => {
  const dgram = await import('node:dgram');
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', () => resolve()));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const client = createDnsClient({ server: `127.0.0.1:${port}`, timeoutMs: 5000 });
  const started = Date.now();
  await assert.rejects(client.query('alpha.test', 'A'), isCode('dns-network'));
  assert.ok(Date.now() - started < 5000);
});

test('invalid names are refused before anything is sent', async (t) => {
  const server = await serve(t, (query) => [reply(query)]);
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  for (const name of ['', 'a..b', `${'a'.repeat(64)}.test`, `${'abcdefgh.'.repeat(29)}test`, 'sp ace.test']) {
    await assert.rejects(client.query(name, 'A'), isCode('dns-bad-name'), name);
  }
  assert.equal(server.queries.length, 0);
});

test('CNAME chains inside the answer are followed; records of other owners are ignored', async (t) => {
  const server = await serve(t, (query) => [
    reply(query, {
      answers: [
        { type: 'CNAME', name: 'www.alpha.test', ttl: 100, data: 'Host.Alpha.Test' },
        { type: 'A', name: 'host.alpha.test', ttl: 50, data: '192.0.2.10' },
        { type: 'A', name: 'unrelated.test', ttl: 50, data: '6.6.6.6' },
      ],
    }),
  ]);
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const answer = await client.query('www.alpha.test', 'A');
  assert.deepEqual(answer.records, ['192.0.2.10']);
  assert.equal(answer.ttl, 50);
  assert.deepEqual((await client.query('www.alpha.test', 'CNAME')).records, ['host.alpha.test']);
});

test('TLSA, TXT and AAAA records decode', async (t) => {
  const hash = Buffer.alloc(32, 0xab);
  const server = await serve(t, (query) => {
    const type = query.packet.questions?.[0]?.type;
    const name = query.packet.questions?.[0]?.name ?? '';
    const answers: dnsPacket.Answer[] =
      type === 'TLSA'
        ? [{ type: 'TLSA', name, ttl: 10, data: { usage: 3, selector: 1, matchingType: 1, certificate: hash } }]
        : type === 'TXT'
          ? [{ type: 'TXT', name, ttl: 10, data: ['v=1 ', 'part two'] }]
          : [{ type: 'AAAA', name, ttl: 10, data: '2001:db8::1' }];
    return [reply(query, { answers, flags: AD })];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const tlsa = await client.query('_5222._tcp.xmpp.alpha.test', 'TLSA');
  assert.deepEqual(tlsa.records, [{ usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(hash), ttl: 10 }]);
  assert.deepEqual((await client.query('alpha.test', 'TXT')).records, ['v=1 part two']);
  assert.deepEqual((await client.query('alpha.test', 'AAAA')).records, ['2001:db8::1']);
});

test('resolver settings: resolv.conf and HOST[:PORT] parsing', () => {
  assert.equal(parseResolvConf('# comment\nsearch example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n'), '10.0.0.53');
  assert.equal(parseResolvConf('nameserver fe80::1%eth0\n'), 'fe80::1');
  assert.equal(parseResolvConf('search only\n'), null);
  assert.deepEqual(parseServer('127.0.0.1'), { host: '127.0.0.1', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseServer('0:0:0:0:0:0:0:1'), { host: '::1', port: 53 });
  for (const bad of ['dns.example', 'dns.example:53', '127.0.0.1:0', '127.0.0.1:99999', '127.0.0.1:x', '']) {
    assert.throws(() => parseServer(bad), isCode('dns-bad-server'), bad);
  }
});

test('the default server is the first nameserver of resolv.conf', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'quiver-resolv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'resolv.conf');
  writeFileSync(path, 'nameserver 192.0.2.53\n');
  const client = createDnsClient({ resolvConfPath: path });
  assert.deepEqual(client.server, { host: '192.0.2.53', port: 53 });
  assert.equal(client.trustAd, false);
  assert.deepEqual(createDnsClient({ resolvConfPath: join(dir, 'missing') }).server, { host: '127.0.0.1', port: 53 });
});

// ---- CNAME chains, negative answers (issue 3) -------------------------------------------------

/** A response with an authority section (reply() has none): for negative answers with an SOA. */
function replyWithSoa(query: Parameters<Script>[0], rcode: number, soa: { ttl: number; minimum: number }): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.packet.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: query.packet.questions ?? [],
    answers: [],
    authorities: [
      {
        type: 'SOA',
        name: 'alpha.test',
        ttl: soa.ttl,
        data: {
          mname: 'ns.alpha.test',
          rname: 'hostmaster.alpha.test',
          serial: 1,
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: soa.minimum,
        },
      },
    ],
  });
}

const cname = (from: string, to: string, ttl = 300): dnsPacket.Answer => ({ type: 'CNAME', name: from, ttl, data: to });

test('a CNAME loop inside the answer is refused as dns-malformed, naming the loop', async (t) => {
  const server = await serve(t, (query) => [
    reply(query, { answers: [cname('a.alpha.test', 'b.alpha.test'), cname('b.alpha.test', 'A.alpha.test.')] }),
  ]);
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  await assert.rejects(
    client.query('a.alpha.test', 'A'),
    (error: unknown) =>
      isCode('dns-malformed')(error) &&
      /CNAME loop \(a\.alpha\.test -> b\.alpha\.test -> a\.alpha\.test\)/.test((error as Error).message),
  );
});

test('CNAME chains: 8 links are followed, 9 are refused', async (t) => {
  // c0 -> c1 -> ... -> c8 (8 links) and d0 -> ... -> d9 (9 links), each ending in an A record.
  const chain = (prefix: string, links: number): dnsPacket.Answer[] => [
    ...Array.from({ length: links }, (_, i) =>
      cname(`${prefix}${i}.alpha.test`, `${prefix}${i + 1}.alpha.test`, 100 - i),
    ),
    { type: 'A', name: `${prefix}${links}.alpha.test`, ttl: 300, data: '192.0.2.8' },
  ];
  const server = await serve(t, (query) => {
    const name = query.packet.questions?.[0]?.name ?? '';
    return [reply(query, { answers: name.startsWith('c') ? chain('c', 8) : chain('d', 9) })];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const eight = await client.query('c0.alpha.test', 'A');
  assert.deepEqual(eight.records, ['192.0.2.8']);
  assert.equal(eight.ttl, 93, 'the smallest TTL along the chain');
  await assert.rejects(
    client.query('d0.alpha.test', 'A'),
    (error: unknown) => isCode('dns-malformed')(error) && /more than 8 CNAMEs/.test((error as Error).message),
  );
});

test('a chain the resolver did not finish is asked for the rest; DNSSEC is the weakest link', async (t) => {
  const server = await serve(t, (query) => {
    const name = query.packet.questions?.[0]?.name;
    if (name === 'www.alpha.test') return [reply(query, { answers: [cname('www.alpha.test', 'cdn.provider.test')] })];
    if (name === 'cdn.provider.test')
      return [
        reply(query, { answers: [{ type: 'A', name: 'cdn.provider.test', ttl: 60, data: '192.0.2.9' }], flags: AD }),
      ];
    return [reply(query, { rcode: 3 })];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const answer = await client.query('www.alpha.test', 'A');
  assert.deepEqual(answer.records, ['192.0.2.9']);
  assert.equal(answer.dnssec, 'insecure', 'the first link had no AD');
  assert.deepEqual(
    server.queries.map((q) => q.packet.questions?.[0]?.name),
    ['www.alpha.test', 'cdn.provider.test'],
  );
});

test('CNAME loops across answers are refused too', async (t) => {
  const server = await serve(t, (query) => {
    const name = query.packet.questions?.[0]?.name;
    return [
      reply(query, {
        answers:
          name === 'x.alpha.test' ? [cname('x.alpha.test', 'y.alpha.test')] : [cname('y.alpha.test', 'x.alpha.test')],
      }),
    ];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  await assert.rejects(client.query('x.alpha.test', 'A'), isCode('dns-malformed'));
  assert.ok(server.queries.length <= 4, `${server.queries.length} queries`);
});

test('negative answers carry the RFC 2308 §5 TTL: min(SOA TTL, SOA MINIMUM); none without an SOA', async (t) => {
  const server = await serve(t, (query) => {
    const name = query.packet.questions?.[0]?.name;
    if (name === 'missing.alpha.test') return [replyWithSoa(query, 3, { ttl: 3600, minimum: 300 })];
    if (name === 'nodata.alpha.test') return [replyWithSoa(query, 0, { ttl: 120, minimum: 600 })];
    return [reply(query, { rcode: 3 })];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  const nx = await client.query('missing.alpha.test', 'SRV');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.negativeTtl, 300);
  assert.equal((await client.query('nodata.alpha.test', 'TLSA')).negativeTtl, 120);
  assert.equal((await client.query('nosoa.alpha.test', 'A')).negativeTtl, null);
});

test('malformed input: a truncated record, garbage after the header, a bad SRV', async (t) => {
  const server = await serve(t, (query) => {
    const good = reply(query, {
      answers: [
        {
          type: 'SRV',
          name: '_xmpp-client._tcp.alpha.test',
          ttl: 60,
          data: { priority: 0, weight: 0, port: 5222, target: 'xmpp.alpha.test' },
        },
      ],
    });
    return [good.subarray(0, good.length - 5)];
  });
  const client = createDnsClient({ server: server.address, timeoutMs: 1000 });
  await assert.rejects(client.srv('_xmpp-client._tcp.alpha.test'), isCode('dns-malformed'));
});
