import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  bogusRefusal,
  discover,
  hostMetaUrl,
  type HostMetaFetcher,
  type SrvResolver,
} from '../../../app/connect/discovery.ts';
import { ConnectError } from '../../../app/connect/connectError.ts';
import type { DnssecStatus } from '../../../app/contract/viewModels.ts';
import type { SrvRecordLike } from '../../../app/connect/srvOrder.ts';

type SrvReply = { rcode: string; records: SrvRecordLike[]; dnssec: DnssecStatus };

/** A scripted SRV resolver: names not listed answer NXDOMAIN; a Promise value is answered when it settles. */
function resolver(answers: Record<string, SrvReply | Promise<SrvReply> | Error>): SrvResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async srv(name) {
      asked.push(name);
      const answer = answers[name];
      if (answer instanceof Error) throw answer;
      return answer ?? { rcode: 'NXDOMAIN', records: [], dnssec: 'insecure' };
    },
  };
}

const srv = (records: [number, number, number, string][], dnssec: DnssecStatus = 'insecure'): SrvReply => ({
  rcode: 'NOERROR',
  records: records.map(([priority, weight, port, target]) => ({ priority, weight, port, target })),
  dnssec,
});

function fetcher(documents: Record<string, unknown>): HostMetaFetcher & { asked: string[] } {
  const asked: string[] = [];
  const get = async (url: string) => {
    asked.push(url);
    if (!(url in documents)) throw Object.assign(new Error(`${url} answered HTTP 404 Not Found.`), { httpStatus: 404 });
    const document = documents[url];
    return document instanceof Promise ? await document : document;
  };
  return { asked, json: get, text: async (url) => String(await get(url)) };
}

/** A deadline the test expires by hand: no timers, no sleeps. */
function manualDeadline(): { start: (ms: number) => AbortSignal; expire: () => void; released: () => boolean } {
  const controller = new AbortController();
  return {
    start: () => controller.signal,
    expire: () => controller.abort(),
    // Every lookup raced against the deadline has stopped listening to it.
    released: () => getEventListeners(controller.signal, 'abort').length === 0,
  };
}

const hostMeta2 = (links: object[]) => ({ xmpp: { ttl: 300 }, links });
const link = (
  rel: 'tls' | 'quic',
  priority: number,
  weight: number,
  port: number,
  sni: string,
  ips = ['192.0.2.7'],
) => ({
  rel: `urn:xmpp:alt-connections:${rel}`,
  priority,
  weight,
  port,
  sni,
  ips,
});

test('all sources make one list ordered by priority, regardless of source or transport (XEP-0368 §3)', async () => {
  const dns = resolver({
    '_xmpp-client._tcp.example.org': srv([[10, 0, 5222, 'xmpp.example.org.']], 'secure'),
    '_xmpps-client._tcp.example.org': srv([[5, 0, 5223, 'xmpp.example.org.']]),
    '_xmppq-client._udp.example.org': srv([[20, 0, 443, 'quic.example.org.']]),
  });
  const http = fetcher({
    'https://example.org/.well-known/host-meta.json': hostMeta2([
      link('tls', 0, 0, 443, 'hosting.example.net'),
      link('quic', 15, 0, 443, 'hosting.example.net'),
    ]),
  });
  const { candidates, problems } = await discover('example.org', dns, { hostMeta: http, random: () => 0 });
  assert.deepEqual(
    candidates.map((c) => `${c.priority} ${c.transport} ${c.host}:${c.port} ${c.source} ${c.dnssec}`),
    [
      '0 tls hosting.example.net:443 host-meta insecure',
      '5 tls xmpp.example.org:5223 srv:_xmpps-client._tcp insecure',
      '10 starttls xmpp.example.org:5222 srv:_xmpp-client._tcp secure',
      '15 quic hosting.example.net:443 host-meta insecure',
      '20 quic quic.example.org:443 srv:_xmppq-client._udp insecure',
    ],
  );
  assert.equal(candidates[0]!.hostMetaSni, 'hosting.example.net');
  assert.deepEqual(candidates[0]!.ips, ['192.0.2.7']);
  assert.equal(candidates[4]!.record, '_xmppq-client._udp.example.org. 20 0 443 quic.example.org.');
  assert.deepEqual(problems, []);
  assert.deepEqual(dns.asked.sort(), [
    '_xmpp-client._tcp.example.org',
    '_xmppq-client._udp.example.org',
    '_xmpps-client._tcp.example.org',
  ]);
});

test('the list is a pure function of the answers and the random source', async () => {
  const dns = resolver({
    '_xmpps-client._tcp.example.org': srv([
      [0, 10, 5223, 'a.example.org'],
      [0, 20, 5223, 'b.example.org'],
    ]),
  });
  const http = fetcher({
    'https://example.org/.well-known/host-meta.json': hostMeta2([link('tls', 0, 30, 443, 'c.example.org')]),
  });
  const run = async (r: number) =>
    (await discover('example.org', dns, { hostMeta: http, random: () => r })).candidates.map((c) => c.host);
  assert.deepEqual(await run(0.99), await run(0.99));
  assert.deepEqual(await run(0), ['a.example.org', 'b.example.org', 'c.example.org']);
  assert.deepEqual(await run(0.99), ['c.example.org', 'b.example.org', 'a.example.org']);
});

test('RFC 2782 weights across sources: host-meta and SRV records of one priority share one weighted draw', async () => {
  const dns = resolver({ '_xmpps-client._tcp.example.org': srv([[1, 25, 5223, 'srv.example.org']]) });
  const http = fetcher({
    'https://example.org/.well-known/host-meta.json': hostMeta2([link('tls', 1, 75, 443, 'meta.example.org')]),
  });
  let state = 7;
  const random = () => {
    // A small LCG: deterministic, uniform enough for a proportion test.
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  let metaFirst = 0;
  const runs = 4000;
  for (let i = 0; i < runs; i++) {
    const { candidates } = await discover('example.org', dns, { hostMeta: http, random });
    if (candidates[0]!.source === 'host-meta') metaFirst++;
  }
  // Expected 75/101 (uniform pick in [0, 100] inclusive): about 0.74.
  assert.ok(Math.abs(metaFirst / runs - 0.74) < 0.03, `host-meta first in ${metaFirst} of ${runs}`);
});

test('duplicates across sources are one candidate: the SRV one, carrying the host-meta sni and ips', async () => {
  const dns = resolver({ '_xmpps-client._tcp.example.org': srv([[0, 0, 443, 'xmpp.example.org']]) });
  const http = fetcher({
    'https://example.org/.well-known/host-meta.json': hostMeta2([
      link('tls', 9, 9, 443, 'XMPP.example.org', ['192.0.2.9']),
    ]),
  });
  const { candidates } = await discover('example.org', dns, { hostMeta: http, random: () => 0 });
  assert.equal(candidates.length, 1);
  assert.equal(candidates[0]!.source, 'srv:_xmpps-client._tcp');
  assert.equal(candidates[0]!.hostMetaSni, 'xmpp.example.org');
  assert.deepEqual(candidates[0]!.ips, ['192.0.2.9']);
});

test('one deadline for all lookups: late answers are dropped and reported, the rest are used', async () => {
  const never = new Promise<SrvReply>(() => undefined);
  const dns = resolver({
    '_xmpp-client._tcp.example.org': srv([[0, 0, 5222, 'xmpp.example.org']]),
    '_xmpps-client._tcp.example.org': never,
  });
  const http = fetcher({ 'https://example.org/.well-known/host-meta.json': new Promise(() => undefined) });
  const deadline = manualDeadline();
  const running = discover('example.org', dns, {
    hostMeta: http,
    startDeadline: deadline.start,
    deadlineMs: 5000,
    random: () => 0,
  });
  // Let the answered lookups settle, then the deadline passes.
  await new Promise<void>((resolve) => setImmediate(resolve));
  deadline.expire();
  const { candidates, problems } = await running;
  assert.deepEqual(
    candidates.map((c) => `${c.transport} ${c.host}`),
    ['starttls xmpp.example.org'],
  );
  assert.deepEqual(problems.sort(), [
    '_xmpps-client._tcp.example.org: no answer within 5 s; ignored',
    'https://example.org/.well-known/host-meta.json: no answer within 5 s; ignored',
  ]);
  assert.equal(deadline.released(), true, 'the deadline is released');
});

test('the deadline is released as soon as everything answered', async () => {
  const deadline = manualDeadline();
  await discover('example.org', resolver({}), { startDeadline: deadline.start });
  assert.equal(deadline.released(), true);
});

test('nothing found: STARTTLS on the domain at 5222 and QUIC on UDP 443 (RFC 6120 §3.2.2, XEP-0467 §2)', async () => {
  const http = fetcher({});
  const { candidates, problems } = await discover('example.org', resolver({}), { hostMeta: http, random: () => 0 });
  assert.deepEqual(
    candidates.map((c) => `${c.transport} ${c.host}:${c.port} ${c.source} ${c.record}`),
    ['starttls example.org:5222 default null', 'quic example.org:443 default null'],
  );
  assert.deepEqual(problems, [
    'https://example.org/.well-known/host-meta.json: not published (HTTP 404)',
    'https://example.org/.well-known/host-meta: not published (HTTP 404)',
  ]);
  // Other failures keep their message, the URL said once.
  const broken: HostMetaFetcher = {
    json: async (url) => Promise.reject(new Error(`${url}: the certificate is for another name`)),
  };
  const result = await discover('example.org', resolver({}), { hostMeta: broken });
  assert.deepEqual(result.problems, [
    'https://example.org/.well-known/host-meta.json: the certificate is for another name',
  ]);
});

test('XEP-0156 XRD is read when host-meta.json is missing: its links are seen, not used', async () => {
  const http = fetcher({
    'https://example.org:8443/.well-known/host-meta': `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:websocket' href='wss://example.org/ws'/></XRD>`,
  });
  const result = await discover('example.org', resolver({}), { hostMeta: http, httpsPort: 8443 });
  assert.deepEqual(result.unused, ['urn:xmpp:alt-connections:websocket wss://example.org/ws']);
  assert.deepEqual(http.asked, [
    'https://example.org:8443/.well-known/host-meta.json',
    'https://example.org:8443/.well-known/host-meta',
  ]);
  assert.equal(result.candidates[0]!.source, 'default');
});

test('the transport preference filters every source, the default included', async () => {
  const dns = resolver({
    '_xmpp-client._tcp.example.org': srv([[0, 0, 5222, 'xmpp.example.org']]),
    '_xmppq-client._udp.example.org': srv([[0, 0, 443, 'xmpp.example.org']]),
  });
  const http = fetcher({
    'https://example.org/.well-known/host-meta.json': hostMeta2([link('tls', 0, 0, 5223, 'xmpp.example.org')]),
  });
  const only = async (preference: 'starttls' | 'tls' | 'quic') =>
    (await discover('example.org', dns, { hostMeta: http, preference, random: () => 0 })).candidates.map(
      (c) => `${c.transport} ${c.source}`,
    );
  assert.deepEqual(await only('starttls'), ['starttls srv:_xmpp-client._tcp']);
  assert.deepEqual(await only('tls'), ['tls host-meta']);
  assert.deepEqual(await only('quic'), ['quic srv:_xmppq-client._udp']);
  const fromDefault = await discover('example.org', resolver({}), { preference: 'quic' });
  assert.deepEqual(
    fromDefault.candidates.map((c) => `${c.transport} ${c.port}`),
    ['quic 443'],
  );
  await assert.rejects(
    discover('example.org', resolver({}), { preference: 'tls' }),
    (e: unknown) => e instanceof ConnectError && e.code === 'no-candidates',
  );
});

test('a target of "." declines the service; with nothing else, discovery stops with that message', async () => {
  const dns = resolver({
    '_xmpp-client._tcp.example.org': srv([[0, 0, 0, '.']]),
    '_xmpps-client._tcp.example.org': srv([[0, 0, 0, '.']]),
  });
  await assert.rejects(
    discover('example.org', dns),
    (e: unknown) =>
      e instanceof ConnectError && e.code === 'no-service' && /offers no XMPP client service/.test(e.message),
  );
});

test('a "." for one service cancels only that service\'s default; the others remain (RFC 2782, RFC 6120 §3.2.1)', async () => {
  const dot = srv([[0, 0, 0, '.']]);
  const defaults = async (answers: Record<string, SrvReply>, preference?: 'starttls' | 'tls' | 'quic') =>
    (await discover('example.org', resolver(answers), { preference })).candidates.map(
      (c) => `${c.transport} ${c.host}:${c.port} ${c.source}`,
    );
  // Direct TLS declined, no _xmpp-client record: STARTTLS on 5222 is still the RFC 6120 fallback.
  assert.deepEqual(await defaults({ '_xmpps-client._tcp.example.org': dot }), [
    'starttls example.org:5222 default',
    'quic example.org:443 default',
  ]);
  assert.deepEqual(await defaults({ '_xmpps-client._tcp.example.org': dot }, 'starttls'), [
    'starttls example.org:5222 default',
  ]);
  // STARTTLS declined: no 5222 fallback, the QUIC default remains.
  assert.deepEqual(await defaults({ '_xmpp-client._tcp.example.org': dot }), ['quic example.org:443 default']);
  // QUIC declined: no UDP 443, STARTTLS remains.
  assert.deepEqual(await defaults({ '_xmppq-client._udp.example.org': dot }), ['starttls example.org:5222 default']);
  // Nothing left: no-service.
  const none = (answers: Record<string, SrvReply>, preference?: 'starttls' | 'tls' | 'quic') =>
    assert.rejects(
      discover('example.org', resolver(answers), { preference }),
      (e: unknown) => e instanceof ConnectError && e.code === 'no-service',
    );
  await none({ '_xmpp-client._tcp.example.org': dot, '_xmppq-client._udp.example.org': dot });
  await none({ '_xmpp-client._tcp.example.org': dot }, 'starttls');
  await none({ '_xmppq-client._udp.example.org': dot }, 'quic');
});

test('bogus answers are not used; the fallback candidates carry bogus so they are refused, not tried', async () => {
  const bogus: SrvReply = { rcode: 'SERVFAIL', records: [], dnssec: 'bogus' };
  const dns = resolver({
    '_xmpp-client._tcp.example.org': bogus,
    '_xmpps-client._tcp.example.org': bogus,
    '_xmppq-client._udp.example.org': bogus,
  });
  const refused = await discover('example.org', dns);
  assert.deepEqual(
    refused.candidates.map((c) => `${c.transport} ${c.source} ${c.dnssec}`),
    ['starttls default bogus', 'quic default bogus'],
  );
  assert.equal(refused.bogus.length, 3);
  assert.match(
    bogusRefusal('example.org', refused.bogus),
    /example\.org \(_xmpps-client\._tcp\.example\.org, .*\) failed DNSSEC validation/,
  );
  // One bogus service beside a good one: the good one is used and the bogus one reported.
  const mixed = resolver({
    '_xmpp-client._tcp.example.org': srv([[0, 0, 5222, 'xmpp.example.org']]),
    '_xmpps-client._tcp.example.org': bogus,
  });
  const result = await discover('example.org', mixed);
  assert.deepEqual(
    result.candidates.map((c) => c.transport),
    ['starttls'],
  );
  assert.match(result.problems.join('\n'), /_xmpps-client\._tcp\.example\.org: the DNSSEC signatures did not validate/);
});

test('lookup failures are problems, not exceptions; SERVFAIL without validation is reported', async () => {
  const dns = resolver({
    '_xmpp-client._tcp.example.org': new Error('No answer from the DNS server'),
    '_xmpps-client._tcp.example.org': { rcode: 'REFUSED', records: [], dnssec: 'insecure' },
  });
  const result = await discover('example.org', dns);
  assert.deepEqual(result.problems.sort(), [
    '_xmpp-client._tcp.example.org: No answer from the DNS server',
    '_xmpps-client._tcp.example.org: REFUSED',
  ]);
  assert.equal(result.candidates[0]!.dnssec, 'insecure');
});

test('host-meta URLs: port 443 is implied, others are written out', () => {
  assert.equal(hostMetaUrl('example.org', 'host-meta.json'), 'https://example.org/.well-known/host-meta.json');
  assert.equal(hostMetaUrl('example.org', 'host-meta', 443), 'https://example.org/.well-known/host-meta');
  assert.equal(
    hostMetaUrl('hostmeta.test', 'host-meta.json', 18443),
    'https://hostmeta.test:18443/.well-known/host-meta.json',
  );
});

test('the default candidates are secure only when every SRV lookup was a DNSSEC-secure "none"', async () => {
  const secureNone: SrvReply = { rcode: 'NXDOMAIN', records: [], dnssec: 'secure' };
  const all = {
    '_xmpp-client._tcp.example.org': secureNone,
    '_xmpps-client._tcp.example.org': secureNone,
    '_xmppq-client._udp.example.org': secureNone,
  };
  const secure = await discover('example.org', resolver(all), { hostMeta: fetcher({}) });
  assert.deepEqual(
    secure.candidates.map((c) => c.dnssec),
    ['secure', 'secure'],
    'a missing host-meta does not matter',
  );
  const oneFailed = await discover(
    'example.org',
    resolver({ ...all, '_xmppq-client._udp.example.org': new Error('timeout') }),
  );
  assert.deepEqual(
    oneFailed.candidates.map((c) => c.dnssec),
    ['insecure', 'insecure'],
  );
});

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Settles as `promise` does, or `'pending'` if it has not after every queued job and a few turns of
 * the event loop: nothing here waits for a socket or a timer, so anything that can settle without
 * the test's help has by then (discovery itself gives host-meta one turn).
 */
async function stateOf<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const turns = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    return 'pending' as const;
  };
  return Promise.race([promise, turns()]);
}

const HOST_META_JSON = 'https://example.org/.well-known/host-meta.json';

test('SRV answered with records and host-meta still pending: discovery returns at once, without host-meta (issue 11)', async () => {
  const xmpps = deferred<SrvReply>();
  const dns = resolver({
    '_xmpps-client._tcp.example.org': xmpps.promise,
    '_xmpp-client._tcp.example.org': srv([[10, 0, 5222, 'xmpp.example.org']]),
  });
  const meta = deferred<unknown>();
  const http = fetcher({ [HOST_META_JSON]: meta.promise });
  const deadline = manualDeadline();
  const running = discover('example.org', dns, { hostMeta: http, startDeadline: deadline.start, random: () => 0 });
  assert.equal(await stateOf(running), 'pending', 'one SRV lookup is still out: discovery waits for it');
  xmpps.resolve(srv([[5, 0, 5223, 'xmpp.example.org']]));
  const result = await stateOf(running);
  assert.notEqual(result, 'pending', 'every SRV lookup answered with records: host-meta is not waited for');
  if (result === 'pending') return;
  assert.deepEqual(
    result.candidates.map((c) => `${c.priority} ${c.transport} ${c.source}`),
    ['5 tls srv:_xmpps-client._tcp', '10 starttls srv:_xmpp-client._tcp'],
  );
  assert.deepEqual(result.problems, [], 'not waiting for host-meta is not a problem');
  assert.equal(deadline.released(), true, 'the abandoned fetch no longer listens to the deadline');
  // The abandoned fetch answering (or failing) later changes nothing and rejects nothing.
  const problemsBefore = [...result.problems];
  meta.reject(new Error('connection reset'));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(result.problems, problemsBefore);
  assert.deepEqual(http.asked, [HOST_META_JSON], 'no XRD fallback fetch after being abandoned');
});

test('the abandoned host-meta fetch is told so through its signal, and its late answer is ignored', async () => {
  const dns = resolver({ '_xmpps-client._tcp.example.org': srv([[5, 0, 5223, 'xmpp.example.org']]) });
  const meta = deferred<unknown>();
  let seen: AbortSignal | undefined;
  const http: HostMetaFetcher = {
    json: (_url, signal) => {
      seen = signal;
      return meta.promise;
    },
  };
  const deadline = manualDeadline();
  const result = await stateOf(discover('example.org', dns, { hostMeta: http, startDeadline: deadline.start }));
  assert.notEqual(result, 'pending', 'SRV answered: discovery does not wait for host-meta');
  if (result === 'pending') return;
  assert.equal(seen?.aborted, true, 'the fetcher can close its connection');
  meta.resolve(hostMeta2([link('tls', 0, 0, 443, 'late.example.net')]));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(
    result.candidates.map((c) => c.host),
    ['xmpp.example.org'],
  );
});

test('SRV gave nothing usable: host-meta is waited for, it may be the only source', async () => {
  const meta = deferred<unknown>();
  const http = fetcher({ [HOST_META_JSON]: meta.promise });
  const dns = resolver({ '_xmpp-client._tcp.example.org': srv([[0, 0, 0, '.']]) });
  const running = discover('example.org', dns, { hostMeta: http, random: () => 0 });
  assert.equal(await stateOf(running), 'pending', 'NXDOMAIN and "." records: host-meta is awaited');
  meta.resolve(
    hostMeta2([link('quic', 1, 0, 443, 'hosting.example.net'), link('tls', 2, 0, 443, 'hosting.example.net')]),
  );
  const { candidates, problems } = await running;
  assert.deepEqual(
    candidates.map((c) => `${c.priority} ${c.transport} ${c.host} ${c.source}`),
    ['1 quic hosting.example.net host-meta', '2 tls hosting.example.net host-meta'],
  );
  assert.deepEqual(problems, []);
});

test('SRV answered after host-meta had arrived: both merge, in the same order as before', async () => {
  const xmpps = deferred<SrvReply>();
  const dns = resolver({
    '_xmpps-client._tcp.example.org': xmpps.promise,
    '_xmppq-client._udp.example.org': srv([[20, 0, 443, 'quic.example.org']]),
  });
  const meta = deferred<unknown>();
  const http = fetcher({ [HOST_META_JSON]: meta.promise });
  const running = discover('example.org', dns, { hostMeta: http, random: () => 0 });
  meta.resolve(
    hostMeta2([link('tls', 0, 0, 443, 'hosting.example.net'), link('quic', 15, 0, 443, 'hosting.example.net')]),
  );
  assert.equal(await stateOf(running), 'pending');
  xmpps.resolve(srv([[5, 0, 5223, 'xmpp.example.org']]));
  const { candidates } = await running;
  assert.deepEqual(
    candidates.map((c) => `${c.priority} ${c.transport} ${c.host} ${c.source}`),
    [
      '0 tls hosting.example.net host-meta',
      '5 tls xmpp.example.org srv:_xmpps-client._tcp',
      '15 quic hosting.example.net host-meta',
      '20 quic quic.example.org srv:_xmppq-client._udp',
    ],
  );
});

test('hostMetaWait "always" (diagnostics): host-meta is waited for even when SRV answered', async () => {
  const dns = resolver({ '_xmpps-client._tcp.example.org': srv([[5, 0, 5223, 'xmpp.example.org']]) });
  const meta = deferred<unknown>();
  const http = fetcher({ [HOST_META_JSON]: meta.promise });
  const running = discover('example.org', dns, { hostMeta: http, hostMetaWait: 'always', random: () => 0 });
  assert.equal(await stateOf(running), 'pending');
  meta.resolve(hostMeta2([link('quic', 1, 0, 443, 'hosting.example.net')]));
  const { candidates } = await running;
  assert.deepEqual(
    candidates.map((c) => c.source),
    ['host-meta', 'srv:_xmpps-client._tcp'],
  );
});
