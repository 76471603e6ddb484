/**
 * Hostile input never throws out of the machine: malformed, misplaced and oversized handshake
 * bytes end in one 'error' event with the alert RFC 8446bis / RFC 9001 name. Includes a fixed-seed,
 * bounded fuzz of truncated, bit-flipped and random flights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alert, QUIC_PROTOCOL_VIOLATION } from '../../../../app/quic/tls/alerts.ts';
import { ByteWriter } from '../../../../app/quic/byteWriter.ts';
import {
  Ext,
  encodeAlpn,
  encodeClientKeyShares,
  encodeU16,
  encodeU16List,
  type Extension,
} from '../../../../app/quic/tls/extensions.ts';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeType,
  encodeServerHello,
  frame,
} from '../../../../app/quic/tls/messages.ts';
import {
  MAX_BUFFERED_HANDSHAKE_BYTES,
  TlsHandshake,
  type Epoch,
  type TlsEvent,
} from '../../../../app/quic/tls/tlsHandshake.ts';
import {
  CLIENT_TP,
  clientConfig,
  drive,
  errorOf,
  makeCert,
  seededRandom,
  serverConfig,
  type Flight,
} from './tlsTestSupport.ts';
import { seededRandom as seededUniform } from '../../../support/seededRandom.ts';

const ALERTS = new Set<number>(Object.values(Alert));

function events(h: TlsHandshake): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = h.pollEvent(); e !== undefined; e = h.pollEvent()) out.push(e);
  return out;
}

function drainOutputs(h: TlsHandshake): { epoch: Epoch; data: Uint8Array }[] {
  const out: { epoch: Epoch; data: Uint8Array }[] = [];
  for (let o = h.pollOutput(); o !== undefined; o = h.pollOutput()) out.push(o);
  return out;
}

/** Feeds `inputs` and returns the one error (asserting nothing threw and at most one error). */
function feed(
  h: TlsHandshake,
  inputs: [Epoch, Uint8Array][],
): { alert: number; reason: string; quicError?: number } | undefined {
  const all: TlsEvent[] = [];
  for (const [epoch, data] of inputs) {
    assert.doesNotThrow(() => h.handleCrypto(epoch, data));
    all.push(...events(h));
  }
  const errors = all.filter((e) => e.type === 'error');
  assert.ok(errors.length <= 1, 'at most one error event');
  const e = errors[0];
  if (e?.type === 'error') assert.ok(ALERTS.has(e.alert), `alert ${e.alert} is a TLS alert we define`);
  return e?.type === 'error' ? e : undefined;
}

async function newServer(): Promise<TlsHandshake> {
  return new TlsHandshake(serverConfig(await makeCert('p256')));
}

function x25519Share(): Uint8Array {
  return new Uint8Array(32).fill(9);
}

/** A ClientHello built field by field, for cases our encoder refuses to produce. */
function rawClientHello(
  o: {
    version?: number;
    sessionId?: Uint8Array;
    suites?: number[];
    compression?: number[];
    extensions?: Extension[];
  } = {},
): Uint8Array {
  const w = new ByteWriter().u16(o.version ?? 0x0303).bytes(new Uint8Array(32).fill(1));
  w.vector(1, o.sessionId ?? new Uint8Array(0));
  w.vector(2, (b) => (o.suites ?? [0x1301]).forEach((s) => b.u16(s)));
  w.vector(1, Uint8Array.from(o.compression ?? [0]));
  w.vector(2, (b) => (o.extensions ?? goodExtensions()).forEach((e) => b.u16(e.type).vector(2, e.data)));
  return frame(HandshakeType.client_hello, w.finish());
}

function goodExtensions(): Extension[] {
  return [
    { type: Ext.supported_versions, data: encodeU16List([0x0304], 1) },
    { type: Ext.supported_groups, data: encodeU16List([0x001d]) },
    { type: Ext.signature_algorithms, data: encodeU16List([0x0403]) },
    { type: Ext.key_share, data: encodeClientKeyShares([{ group: 0x001d, keyExchange: x25519Share() }]) },
    { type: Ext.application_layer_protocol_negotiation, data: encodeAlpn(['xmpp-client']) },
    { type: Ext.quic_transport_parameters, data: CLIENT_TP },
  ];
}

test('a hand-built ClientHello is accepted (the baseline for the cases below)', async () => {
  const s = await newServer();
  assert.equal(feed(s, [['initial', rawClientHello()]]), undefined);
  assert.equal(drainOutputs(s).length, 2);
});

test('ClientHello faults map to their alerts', async () => {
  const without = (type: number) => goodExtensions().filter((e) => e.type !== type);
  const cases: [string, Uint8Array, number, number?][] = [
    [
      'TLS 1.2 only (no supported_versions)',
      rawClientHello({ extensions: without(Ext.supported_versions) }),
      Alert.protocol_version,
    ],
    [
      'supported_versions without 0x0304',
      rawClientHello({
        extensions: [
          { type: Ext.supported_versions, data: encodeU16List([0x0303], 1) },
          ...without(Ext.supported_versions),
        ],
      }),
      Alert.protocol_version,
    ],
    ['legacy_version 0x0301', rawClientHello({ version: 0x0301 }), Alert.protocol_version],
    [
      'middlebox compatibility session id',
      rawClientHello({ sessionId: new Uint8Array(32).fill(3) }),
      Alert.illegal_parameter,
      QUIC_PROTOCOL_VIOLATION,
    ],
    ['compression methods [1, 0]', rawClientHello({ compression: [1, 0] }), Alert.illegal_parameter],
    [
      'duplicate extension',
      rawClientHello({
        extensions: [...goodExtensions(), { type: Ext.supported_groups, data: encodeU16List([0x001d]) }],
      }),
      Alert.illegal_parameter,
    ],
    [
      'no ALPN',
      rawClientHello({ extensions: without(Ext.application_layer_protocol_negotiation) }),
      Alert.no_application_protocol,
    ],
    [
      'no transport parameters',
      rawClientHello({ extensions: without(Ext.quic_transport_parameters) }),
      Alert.missing_extension,
    ],
    [
      'no signature_algorithms',
      rawClientHello({ extensions: without(Ext.signature_algorithms) }),
      Alert.missing_extension,
    ],
    ['no key_share', rawClientHello({ extensions: without(Ext.key_share) }), Alert.missing_extension],
    [
      'key share for a group not in supported_groups',
      rawClientHello({
        extensions: [
          ...without(Ext.key_share),
          {
            type: Ext.key_share,
            data: encodeClientKeyShares([{ group: 0x0017, keyExchange: new Uint8Array(65).fill(4) }]),
          },
        ],
      }),
      Alert.illegal_parameter,
    ],
    [
      'all-zero X25519 share',
      rawClientHello({
        extensions: [
          ...without(Ext.key_share),
          { type: Ext.key_share, data: encodeClientKeyShares([{ group: 0x001d, keyExchange: new Uint8Array(32) }]) },
        ],
      }),
      Alert.illegal_parameter,
    ],
    [
      'X25519 share of 31 bytes',
      rawClientHello({
        extensions: [
          ...without(Ext.key_share),
          {
            type: Ext.key_share,
            data: encodeClientKeyShares([{ group: 0x001d, keyExchange: new Uint8Array(31).fill(9) }]),
          },
        ],
      }),
      Alert.illegal_parameter,
    ],
    [
      'pre_shared_key not last',
      rawClientHello({ extensions: [{ type: Ext.pre_shared_key, data: new Uint8Array(0) }, ...goodExtensions()] }),
      Alert.illegal_parameter,
    ],
    ['no common cipher suite', rawClientHello({ suites: [0x1304] }), Alert.handshake_failure],
    ['empty cipher suite list', rawClientHello({ suites: [] }), Alert.decode_error],
    [
      'trailing byte after the extensions',
      (() => {
        const ch = rawClientHello();
        const b = new Uint8Array(ch.length + 1);
        b.set(ch);
        b[3] = (b[3] as number) + 1;
        return b;
      })(),
      Alert.decode_error,
    ],
  ];
  for (const [name, ch, alert, quicError] of cases) {
    const e = feed(await newServer(), [['initial', ch]]);
    assert.equal(e?.alert, alert, `${name}: ${e?.reason}`);
    if (quicError !== undefined) assert.equal(e?.quicError, quicError, name);
  }
});

test('secp256r1 share that is not a curve point is illegal_parameter', async () => {
  const bad = new Uint8Array(65).fill(0x11);
  bad[0] = 4;
  const exts = goodExtensions().filter((e) => e.type !== Ext.key_share && e.type !== Ext.supported_groups);
  exts.push(
    { type: Ext.supported_groups, data: encodeU16List([0x0017]) },
    { type: Ext.key_share, data: encodeClientKeyShares([{ group: 0x0017, keyExchange: bad }]) },
  );
  assert.equal(
    feed(await newServer(), [['initial', rawClientHello({ extensions: exts })]])?.alert,
    Alert.illegal_parameter,
  );
});

test('framing faults: unknown type, absurd length, a TLS record, overflow of the per-epoch cap', async () => {
  assert.equal(feed(await newServer(), [['initial', Uint8Array.of(99, 0, 0, 0)]])?.alert, Alert.unexpected_message);
  assert.equal(feed(await newServer(), [['initial', Uint8Array.of(1, 0xff, 0xff, 0xff)]])?.alert, Alert.decode_error);
  // A ChangeCipherSpec record has no place in QUIC (RFC 9001 §8.4): its bytes are not a handshake message.
  assert.ok(feed(await newServer(), [['initial', Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01)]]));
  // EndOfEarlyData is not used with QUIC (RFC 9001 §8.3).
  assert.equal(feed(await newServer(), [['initial', Uint8Array.of(5, 0, 0, 0)]])?.alert, Alert.unexpected_message);
  // Data for a later epoch is held, but never more than the cap.
  const s = await newServer();
  const chunk = new Uint8Array(16 * 1024);
  const inputs: [Epoch, Uint8Array][] = [];
  for (let sent = 0; sent <= MAX_BUFFERED_HANDSHAKE_BYTES; sent += chunk.length) inputs.push(['handshake', chunk]);
  assert.equal(feed(s, inputs)?.quicError, 0x0d, 'CRYPTO_BUFFER_EXCEEDED');
  // A message whose header promises a body that never arrives just waits (no error, no output).
  const w = await newServer();
  assert.equal(feed(w, [['initial', Uint8Array.of(1, 0, 1, 0, 3, 3)]]), undefined);
  assert.equal(w.pollOutput(), undefined);
});

/** A client that has sent its ClientHello, and the server flights answering it. */
async function recordedExchange(serverOver = {}): Promise<{ seed: string; flights: Flight[] }> {
  const seed = 'recorded';
  const client = new TlsHandshake(clientConfig({ randomBytes: seededRandom(seed) }));
  const server = new TlsHandshake(
    serverConfig(await makeCert('p256'), { randomBytes: seededRandom('server'), ...serverOver }),
  );
  const r = drive(client, server);
  assert.equal(errorOf(r.clientEvents), undefined);
  return { seed, flights: r.flights };
}

function freshClient(seed: string): TlsHandshake {
  const c = new TlsHandshake(clientConfig({ randomBytes: seededRandom(seed) }));
  c.start();
  drainOutputs(c);
  return c;
}

test('messages in the wrong epoch', async () => {
  const { seed, flights } = await recordedExchange();
  const sh = flights[1] as Flight;
  const hs = flights[2] as Flight;
  assert.equal(sh.epoch, 'initial');
  // The recorded flight replays cleanly into a fresh client with the same random seed.
  assert.equal(
    feed(freshClient(seed), [
      ['initial', sh.data],
      ['handshake', hs.data],
    ]),
    undefined,
  );
  // ServerHello followed by EncryptedExtensions in the Initial epoch: unconsumed data at a key change.
  const both = new Uint8Array(sh.data.length + hs.data.length);
  both.set(sh.data);
  both.set(hs.data, sh.data.length);
  const e1 = feed(freshClient(seed), [['initial', both]]);
  assert.equal(e1?.quicError, QUIC_PROTOCOL_VIOLATION);
  // Initial data after the ServerHello was processed: the epoch is closed.
  const e2 = feed(freshClient(seed), [
    ['initial', sh.data],
    ['initial', hs.data],
  ]);
  assert.equal(e2?.alert, Alert.unexpected_message);
  // The ServerHello again, in the Handshake epoch.
  assert.equal(
    feed(freshClient(seed), [
      ['initial', sh.data],
      ['handshake', sh.data],
    ])?.alert,
    Alert.unexpected_message,
  );
  // Application-epoch data before the handshake finished is held, not processed out of turn.
  assert.equal(feed(freshClient(seed), [['application', Uint8Array.of(4, 0, 0, 0)]]), undefined);
});

test('ServerHello faults map to their alerts', async () => {
  const { seed } = await recordedExchange();
  const sv = { type: Ext.supported_versions, data: encodeU16(0x0304) };
  const ks = { type: Ext.key_share, data: new ByteWriter().u16(0x001d).vector(2, new Uint8Array(32).fill(9)).finish() };
  const rnd = new Uint8Array(32).fill(5);
  const cases: [string, Uint8Array, number][] = [
    ['TLS 1.2 ServerHello', encodeServerHello(rnd, new Uint8Array(0), 0x1301, [ks]), Alert.protocol_version],
    [
      'version 0x0305',
      encodeServerHello(rnd, new Uint8Array(0), 0x1301, [
        { type: Ext.supported_versions, data: encodeU16(0x0305) },
        ks,
      ]),
      Alert.illegal_parameter,
    ],
    ['session id echo', encodeServerHello(rnd, new Uint8Array(32), 0x1301, [sv, ks]), Alert.illegal_parameter],
    ['suite not offered', encodeServerHello(rnd, new Uint8Array(0), 0x1304, [sv, ks]), Alert.illegal_parameter],
    [
      'key share for another group',
      encodeServerHello(rnd, new Uint8Array(0), 0x1301, [
        sv,
        { type: Ext.key_share, data: new ByteWriter().u16(0x0017).vector(2, new Uint8Array(65)).finish() },
      ]),
      Alert.illegal_parameter,
    ],
    ['no key share', encodeServerHello(rnd, new Uint8Array(0), 0x1301, [sv]), Alert.missing_extension],
    [
      'unoffered pre_shared_key',
      encodeServerHello(rnd, new Uint8Array(0), 0x1301, [sv, ks, { type: Ext.pre_shared_key, data: encodeU16(0) }]),
      Alert.unsupported_extension,
    ],
    [
      'ALPN in ServerHello',
      encodeServerHello(rnd, new Uint8Array(0), 0x1301, [
        sv,
        ks,
        { type: Ext.application_layer_protocol_negotiation, data: encodeAlpn(['xmpp-client']) },
      ]),
      Alert.illegal_parameter,
    ],
    [
      'HRR asking for the group already sent',
      encodeServerHello(HELLO_RETRY_REQUEST_RANDOM, new Uint8Array(0), 0x1301, [
        sv,
        { type: Ext.key_share, data: encodeU16(0x001d) },
      ]),
      Alert.illegal_parameter,
    ],
    [
      'HRR asking for nothing',
      encodeServerHello(HELLO_RETRY_REQUEST_RANDOM, new Uint8Array(0), 0x1301, [sv]),
      Alert.illegal_parameter,
    ],
  ];
  for (const [name, sh, alert] of cases) {
    assert.equal(feed(freshClient(seed), [['initial', sh]])?.alert, alert, name);
  }
  // A second HelloRetryRequest.
  const hrr = encodeServerHello(HELLO_RETRY_REQUEST_RANDOM, new Uint8Array(0), 0x1301, [
    sv,
    { type: Ext.key_share, data: encodeU16(0x0017) },
  ]);
  const c = freshClient(seed);
  assert.equal(feed(c, [['initial', hrr]]), undefined);
  assert.equal(drainOutputs(c).length, 1, 'ClientHello2 sent');
  assert.equal(feed(c, [['initial', hrr]])?.alert, Alert.unexpected_message);
});

function mutate(data: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  switch (pick(4)) {
    case 0:
      return data.slice(0, pick(data.length));
    case 1: {
      const c = data.slice();
      for (let i = 0, n = 1 + pick(4); i < n; i++) {
        const at = pick(c.length);
        c[at] = (c[at] as number) ^ (1 << pick(8));
      }
      return c;
    }
    case 2: {
      const c = data.slice();
      const at = pick(c.length);
      c[at] = pick(256);
      return c;
    }
    default:
      return Uint8Array.from({ length: 1 + pick(300) }, () => pick(256));
  }
}

test('fuzz (seed 20261122, 600 cases): truncated, bit-flipped and random flights never throw', async () => {
  const rnd = seededUniform(20261122);
  const { seed, flights } = await recordedExchange({ requireHelloRetry: false });
  const [ch, sh, serverHs, clientFin] = flights as [Flight, Flight, Flight, Flight];
  const cert = await makeCert('p256');
  let errors = 0;
  for (let i = 0; i < 200; i++) {
    // The server receiving a damaged ClientHello, then the genuine client Finished.
    const s = new TlsHandshake(serverConfig(cert, { randomBytes: seededRandom('server') }));
    if (
      feed(s, [
        ['initial', mutate(ch.data, rnd)],
        ['handshake', clientFin.data],
      ])
    )
      errors++;
    // The client receiving a damaged ServerHello, or a damaged handshake flight.
    if (
      feed(freshClient(seed), [
        ['initial', mutate(sh.data, rnd)],
        ['handshake', serverHs.data],
      ])
    )
      errors++;
    const c = freshClient(seed);
    const e = feed(c, [
      ['initial', sh.data],
      ['handshake', mutate(serverHs.data, rnd)],
    ]);
    if (e) errors++;
    else assert.equal(c.isComplete, false, 'a damaged server flight never completes the handshake');
  }
  assert.ok(
    errors > 400,
    `most damaged inputs are detected (${errors}/600); the rest are truncations that wait for more bytes`,
  );
});

test('random bytes in random epochs at every stage never throw', () => {
  const rnd = seededUniform(7);
  for (let i = 0; i < 200; i++) {
    const c = new TlsHandshake(clientConfig({ randomBytes: seededRandom(`r${i}`) }));
    c.start();
    const epochs: Epoch[] = ['initial', 'handshake', 'application'];
    const inputs: [Epoch, Uint8Array][] = [];
    for (let k = 0; k < 3; k++)
      inputs.push([
        epochs[Math.floor(rnd() * 3)] as Epoch,
        Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)),
      ]);
    feed(c, inputs);
    assert.equal(c.isComplete, false);
  }
});
