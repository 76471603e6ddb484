/**
 * Test support for the TLS handshake: certificates made on the fly, a fixed-seed random source,
 * and an in-memory driver that moves CRYPTO bytes between a client and a server machine.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  TlsHandshake,
  type Epoch,
  type TlsClientConfig,
  type TlsEvent,
  type TlsServerConfig,
} from '../../../../app/quic/tls/tlsHandshake.ts';

export type KeyKind = 'p256' | 'p384' | 'rsa' | 'ed25519';

export interface TestCert {
  chain: Uint8Array[];
  privateKey: KeyObject;
}

const engine = new pkijs.CryptoEngine({ name: 'tls-test-webcrypto', crypto: globalThis.crypto });

function newKeyPair(kind: KeyKind): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (kind) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

const certCache = new Map<string, Promise<TestCert>>();
let issuerKeys: Promise<CryptoKeyPair> | null = null;

/**
 * A certificate for `name` whose subject key is of `kind` (cached per kind and name). The TLS
 * machine only takes the public key out of the leaf, so every certificate is signed by one
 * ECDSA P-256 test issuer (RFC 8446bis §4.4.2.4 allows a key signed with another algorithm).
 */
export function makeCert(kind: KeyKind, name = 'quic.example'): Promise<TestCert> {
  const cacheKey = `${kind}/${name}`;
  let p = certCache.get(cacheKey);
  if (p === undefined) {
    p = (async () => {
      issuerKeys ??= crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
        'sign',
        'verify',
      ]) as Promise<CryptoKeyPair>;
      const issuer = await issuerKeys;
      const pair = newKeyPair(kind);
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
      const cert = new pkijs.Certificate();
      cert.version = 2;
      cert.serialNumber = new asn1js.Integer({ value: certCache.size + 1 });
      cert.subject.typesAndValues.push(
        new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: name }) }),
      );
      cert.issuer.typesAndValues.push(
        new pkijs.AttributeTypeAndValue({
          type: '2.5.4.3',
          value: new asn1js.Utf8String({ value: 'Quiver TLS test issuer' }),
        }),
      );
      cert.notBefore.value = new Date('2026-01-01T00:00:00Z');
      cert.notAfter.value = new Date('2036-01-01T00:00:00Z');
      cert.subjectPublicKeyInfo = new pkijs.PublicKeyInfo({ schema: asn1js.fromBER(new Uint8Array(spki)).result });
      await cert.sign(issuer.privateKey, 'SHA-256', engine);
      return { chain: [new Uint8Array(cert.toSchema(true).toBER(false))], privateKey: pair.privateKey };
    })();
    certCache.set(cacheKey, p);
  }
  return p;
}

/** A deterministic byte source (SHA-256 in counter mode over a seed). */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

export const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x40, 0x64); // max_idle_timeout = 100
export const SERVER_TP = Uint8Array.of(0x03, 0x02, 0x45, 0xac); // max_udp_payload_size = 1452

export function clientConfig(over: Partial<TlsClientConfig> = {}): TlsClientConfig {
  return {
    role: 'client',
    serverName: 'quic.example',
    alpn: ['xmpp-client'],
    transportParameters: CLIENT_TP,
    now: () => 1_800_000_000_000,
    ...over,
  };
}

export function serverConfig(cert: TestCert, over: Partial<TlsServerConfig> = {}): TlsServerConfig {
  return {
    role: 'server',
    alpn: ['xmpp-client'],
    transportParameters: SERVER_TP,
    certificateChain: cert.chain,
    privateKey: cert.privateKey,
    now: () => 1_800_000_000_000,
    ...over,
  };
}

export interface Flight {
  from: 'client' | 'server';
  epoch: Epoch;
  data: Uint8Array;
}

export interface PairResult {
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  flights: Flight[];
}

export interface DriveOptions {
  /** What the client's verifier decides on 'peer-certificate' (default: accept). */
  onPeerCertificate?: (client: TlsHandshake, chain: Uint8Array[]) => void;
  /** Rewrite (or drop, by returning null) a flight in transit. */
  tamper?: (flight: Flight) => Uint8Array | null;
}

/** Runs a client/server pair to quiescence in memory; bounded, no clocks. */
export function drive(client: TlsHandshake, server: TlsHandshake, options: DriveOptions = {}): PairResult {
  const result: PairResult = { clientEvents: [], serverEvents: [], flights: [] };
  const accept = options.onPeerCertificate ?? ((c: TlsHandshake) => c.acceptPeer());
  client.start();
  for (let round = 0; round < 50; round++) {
    let moved = false;
    for (const [self, peer, from, events] of [
      [client, server, 'client', result.clientEvents],
      [server, client, 'server', result.serverEvents],
    ] as const) {
      for (let ev = self.pollEvent(); ev !== undefined; ev = self.pollEvent()) {
        events.push(ev);
        moved = true;
        if (ev.type === 'peer-certificate' && self === client) accept(client, ev.chain);
      }
      for (let out = self.pollOutput(); out !== undefined; out = self.pollOutput()) {
        const flight: Flight = { from, epoch: out.epoch, data: out.data };
        result.flights.push(flight);
        const data = options.tamper ? options.tamper(flight) : flight.data;
        if (data !== null) peer.handleCrypto(out.epoch, data);
        moved = true;
      }
    }
    if (!moved) return result;
  }
  throw new Error('pair did not quiesce in 50 rounds');
}

export function handshakePair(
  clientOver: Partial<TlsClientConfig>,
  cert: TestCert,
  serverOver: Partial<TlsServerConfig> = {},
  options: DriveOptions = {},
) {
  const client = new TlsHandshake(clientConfig(clientOver));
  const server = new TlsHandshake(serverConfig(cert, serverOver));
  return { client, server, ...drive(client, server, options) };
}

export function errorOf(events: TlsEvent[]): { alert: number; reason: string; quicError?: number } | undefined {
  const e = events.find((x) => x.type === 'error');
  return e?.type === 'error' ? e : undefined;
}

export function keysOf(
  events: TlsEvent[],
  epoch: 'handshake' | 'application',
  direction: 'read' | 'write',
): Uint8Array | undefined {
  const e = events.find((x) => x.type === 'keys' && x.epoch === epoch && x.direction === direction);
  return e?.type === 'keys' ? e.secret : undefined;
}
