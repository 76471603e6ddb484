/**
 * TLS 1.3 handshake messages (RFC 8446bis §4): framing and the encode/decode of each body.
 * Only structure is checked here; semantics (versions, offered values) are the machines' job.
 */
import { Alert, fail, tlsReader } from './alerts.ts';
import { ByteWriter } from '../byteWriter.ts';
import { Extensions, type Extension } from './extensions.ts';

export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

export function handshakeTypeName(type: number): string {
  for (const [name, code] of Object.entries(HandshakeType)) if (code === type) return name;
  return `handshake_type_${type}`;
}

/** §4: struct { HandshakeType msg_type; uint24 length; ... } Handshake. */
export function frame(type: number, body: Uint8Array): Uint8Array {
  return new ByteWriter().u8(type).vector(3, body).finish();
}

/** §4.1.3: SHA-256("HelloRetryRequest"), the ServerHello.random that marks a HelloRetryRequest. */
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
);

export interface ClientHello {
  legacyVersion: number;
  random: Uint8Array;
  legacySessionId: Uint8Array;
  cipherSuites: number[];
  compressionMethods: Uint8Array;
  extensions: Extensions;
}

export function encodeClientHello(
  random: Uint8Array,
  cipherSuites: readonly number[],
  extensions: readonly Extension[],
): Uint8Array {
  const w = new ByteWriter().u16(0x0303).bytes(random);
  // RFC 9001 §8.4: "A client MUST NOT request the use of the TLS 1.3 compatibility mode."
  w.vector(1, new Uint8Array(0));
  w.vector(2, (b) => cipherSuites.forEach((s) => b.u16(s)));
  w.vector(1, Uint8Array.of(0));
  Extensions.write(w, extensions);
  return frame(HandshakeType.client_hello, w.finish());
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = tlsReader(body, 'ClientHello');
  const legacyVersion = r.u16();
  const random = r.bytesView(32);
  const legacySessionId = r.vector(1, 0, 32);
  const suites = r.sub(2, 'cipher_suites', 2);
  if (suites.remaining % 2 !== 0) fail(Alert.decode_error, 'ClientHello: odd cipher_suites length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16());
  const compressionMethods = r.vector(1, 1);
  const extensions = Extensions.read(r, 'ClientHello', 8);
  r.expectEnd();
  return { legacyVersion, random, legacySessionId, cipherSuites, compressionMethods, extensions };
}

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extensions;
  isHelloRetryRequest: boolean;
}

export function encodeServerHello(
  random: Uint8Array,
  sessionIdEcho: Uint8Array,
  cipherSuite: number,
  extensions: readonly Extension[],
): Uint8Array {
  const w = new ByteWriter().u16(0x0303).bytes(random).vector(1, sessionIdEcho).u16(cipherSuite).u8(0);
  Extensions.write(w, extensions);
  return frame(HandshakeType.server_hello, w.finish());
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = tlsReader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.bytesView(32);
  const legacySessionIdEcho = r.vector(1, 0, 32);
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  const extensions = Extensions.read(r, 'ServerHello', 6);
  r.expectEnd();
  const isHelloRetryRequest = random.every((b, i) => b === HELLO_RETRY_REQUEST_RANDOM[i]);
  return {
    legacyVersion,
    random,
    legacySessionIdEcho,
    cipherSuite,
    compressionMethod,
    extensions,
    isHelloRetryRequest,
  };
}

export function encodeEncryptedExtensions(extensions: readonly Extension[]): Uint8Array {
  const w = new ByteWriter();
  Extensions.write(w, extensions);
  return frame(HandshakeType.encrypted_extensions, w.finish());
}

export function decodeEncryptedExtensions(body: Uint8Array): Extensions {
  const r = tlsReader(body, 'EncryptedExtensions');
  const e = Extensions.read(r, 'EncryptedExtensions');
  r.expectEnd();
  return e;
}

export interface CertificateRequest {
  context: Uint8Array;
  extensions: Extensions;
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = tlsReader(body, 'CertificateRequest');
  const context = r.vector(1);
  const extensions = Extensions.read(r, 'CertificateRequest', 2);
  r.expectEnd();
  return { context, extensions };
}

export function encodeCertificate(context: Uint8Array, chain: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter().vector(1, context);
  w.vector(3, (l) => chain.forEach((c) => l.vector(3, c).u16(0)));
  return frame(HandshakeType.certificate, w.finish());
}

export function decodeCertificate(body: Uint8Array): { context: Uint8Array; chain: Uint8Array[] } {
  const r = tlsReader(body, 'Certificate');
  const context = r.vector(1);
  const list = r.sub(3, 'certificate_list');
  r.expectEnd();
  const chain: Uint8Array[] = [];
  while (list.remaining > 0) {
    chain.push(list.vector(3, 1));
    // Per-certificate extensions (status_request, SCT) are not requested, so they are skipped
    // after structural decoding; §4.4.2: they MUST correspond to ones in the ClientHello.
    const exts = Extensions.read(list, 'CertificateEntry');
    if (exts.list.length > 0)
      fail(Alert.unsupported_extension, 'CertificateEntry carries an extension we did not offer');
  }
  return { context, chain };
}

export function encodeCertificateVerify(scheme: number, signature: Uint8Array): Uint8Array {
  return frame(HandshakeType.certificate_verify, new ByteWriter().u16(scheme).vector(2, signature).finish());
}

export function decodeCertificateVerify(body: Uint8Array): { scheme: number; signature: Uint8Array } {
  const r = tlsReader(body, 'CertificateVerify');
  const scheme = r.u16();
  const signature = r.vector(2);
  r.expectEnd();
  return { scheme, signature };
}

export const encodeFinished = (verifyData: Uint8Array): Uint8Array => frame(HandshakeType.finished, verifyData);

export interface NewSessionTicket {
  lifetime: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
  extensions: Extensions;
}

export function encodeNewSessionTicket(
  t: Omit<NewSessionTicket, 'extensions'>,
  extensions: readonly Extension[] = [],
): Uint8Array {
  const w = new ByteWriter().u32(t.lifetime).u32(t.ageAdd).vector(1, t.nonce).vector(2, t.ticket);
  Extensions.write(w, extensions);
  return frame(HandshakeType.new_session_ticket, w.finish());
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = tlsReader(body, 'NewSessionTicket');
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const nonce = r.vector(1);
  const ticket = r.vector(2, 1);
  const extensions = Extensions.read(r, 'NewSessionTicket');
  r.expectEnd();
  return { lifetime, ageAdd, nonce, ticket, extensions };
}
