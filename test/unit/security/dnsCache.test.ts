import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCachingDnsClient, cacheLifetime } from '../../../app/security/dnsCache.ts';
import type { DnsAnswer, DnsClient, DnsQueryType } from '../../../app/security/dnsClient.ts';

/** A DnsClient whose answers the test scripts, counting the questions that reach it. */
function fakeClient(answerFor: (name: string, type: DnsQueryType) => DnsAnswer | Promise<DnsAnswer>) {
  const asked: string[] = [];
  const client = {
    server: { host: '127.0.0.1', port: 53 },
    trustAd: true,
    query: async (name: string, type: DnsQueryType) => {
      asked.push(`${type} ${name}`);
      return answerFor(name, type);
    },
    srv: async (name: string) => {
      asked.push(`SRV ${name}`);
      return answerFor(name, 'SRV');
    },
  } as unknown as DnsClient;
  return { client, asked };
}

const positive = (ttl: number): DnsAnswer => ({
  rcode: 'NOERROR',
  records: [{ priority: 0, weight: 0, port: 5222, target: 'xmpp.alpha.test', ttl }],
  dnssec: 'secure',
  authenticData: true,
  ttl,
  negativeTtl: null,
});
const negative = (negativeTtl: number | null, rcode: DnsAnswer['rcode'] = 'NXDOMAIN'): DnsAnswer => ({
  rcode,
  records: [],
  dnssec: 'insecure',
  authenticData: false,
  ttl: null,
  negativeTtl,
});

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => void (now += seconds * 1000) };
}

test('positive answers are served from the cache until their TTL runs out, with the TTL counted down', async () => {
  const time = clock();
  const { client, asked } = fakeClient(() => positive(300));
  const cached = createCachingDnsClient(client, { now: time.now });
  assert.equal((await cached.srv('_xmpp-client._tcp.alpha.test')).ttl, 300);
  time.advance(100);
  const again = await cached.srv('_XMPP-client._tcp.alpha.test.');
  assert.equal(again.ttl, 200);
  assert.equal((again.records[0] as { ttl: number }).ttl, 200);
  assert.equal(again.dnssec, 'secure');
  assert.equal(asked.length, 1, 'the same name (case and trailing dot aside) is one entry');
  time.advance(200);
  await cached.srv('_xmpp-client._tcp.alpha.test');
  assert.equal(asked.length, 2, 'expired at exactly its TTL');
});

test('long TTLs are capped (1 h by default)', async () => {
  const time = clock();
  const { client, asked } = fakeClient(() => positive(86_400));
  const cached = createCachingDnsClient(client, { now: time.now });
  await cached.query('alpha.test', 'A');
  time.advance(3599);
  await cached.query('alpha.test', 'A');
  assert.equal(asked.length, 1);
  time.advance(1);
  await cached.query('alpha.test', 'A');
  assert.equal(asked.length, 2);
});

test('negative answers are cached for the SOA-derived time, capped; never without an SOA', async () => {
  const time = clock();
  const answers: Record<string, DnsAnswer> = {
    'short.test': negative(60),
    'long.test': negative(86_400),
    'nosoa.test': negative(null),
    'nodata.test': negative(30, 'NOERROR'),
  };
  const { client, asked } = fakeClient((name) => answers[name]!);
  const cached = createCachingDnsClient(client, { now: time.now, maxNegativeTtlSeconds: 900 });
  for (const name of Object.keys(answers)) await cached.query(name, 'SRV');
  time.advance(29);
  for (const name of Object.keys(answers)) await cached.query(name, 'SRV');
  assert.deepEqual(asked.slice(4), ['SRV nosoa.test'], 'only the answer without an SOA was asked again');
  time.advance(31);
  for (const name of Object.keys(answers)) await cached.query(name, 'SRV');
  assert.deepEqual(asked.slice(5).sort(), ['SRV nodata.test', 'SRV nosoa.test', 'SRV short.test']);
  time.advance(900 - 60);
  await cached.query('long.test', 'SRV');
  assert.equal(asked.at(-1), 'SRV long.test', 'capped at 900 s');
});

test('failures are never cached: SERVFAIL, bogus, REFUSED, exceptions', async () => {
  let fail = true;
  const { client, asked } = fakeClient((name) => {
    if (name === 'throws.test' && fail) throw new Error('timeout');
    if (name === 'bogus.test') return { ...negative(300, 'SERVFAIL'), dnssec: 'bogus' };
    if (name === 'refused.test') return negative(300, 'REFUSED');
    return positive(60);
  });
  const cached = createCachingDnsClient(client, { now: clock().now });
  for (let i = 0; i < 2; i++) {
    await cached.query('bogus.test', 'TLSA');
    await cached.query('refused.test', 'A');
  }
  await assert.rejects(cached.query('throws.test', 'A'), /timeout/);
  fail = false;
  await cached.query('throws.test', 'A');
  assert.equal(asked.length, 6);
  assert.equal(cacheLifetime({ ...positive(60), dnssec: 'bogus' }, 3600, 900), 0);
});

test('types are cached apart; concurrent identical questions share one query', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { client, asked } = fakeClient(async () => {
    await gate;
    return positive(60);
  });
  const cached = createCachingDnsClient(client, { now: clock().now });
  const both = Promise.all([
    cached.query('alpha.test', 'A'),
    cached.query('alpha.test', 'A'),
    cached.query('alpha.test', 'AAAA'),
  ]);
  release();
  await both;
  assert.deepEqual(asked, ['A alpha.test', 'AAAA alpha.test']);
});

test('the cache is bounded: the oldest entry goes first', async () => {
  const { client, asked } = fakeClient(() => positive(600));
  const cached = createCachingDnsClient(client, { now: clock().now, maxEntries: 2 });
  for (const name of ['a.test', 'b.test', 'c.test', 'c.test', 'b.test', 'a.test']) await cached.query(name, 'A');
  assert.deepEqual(asked, ['A a.test', 'A b.test', 'A c.test', 'A a.test']);
});
