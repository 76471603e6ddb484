/**
 * TLS 1.3 extensions used with QUIC (RFC 8446bis §4.2, RFC 9001 §8.2): their code points, the
 * extension block parser and the per-extension codecs. Decoders raise TlsAlertError on bad input.
 */
import { Alert, fail, tlsReader } from './alerts.ts';
import type { ByteReader } from '../byteReader.ts';
import { ByteWriter } from '../byteWriter.ts';

export const Ext = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  application_layer_protocol_negotiation: 16,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 0x39,
} as const;

export const TLS13 = 0x0304;
export const PSK_DHE_KE = 1;

export interface Extension {
  type: number;
  data: Uint8Array;
}

/** An extension block, in wire order, with at most one extension per type. */
export class Extensions {
  readonly list: readonly Extension[];
  private readonly byType: Map<number, Uint8Array>;

  constructor(list: readonly Extension[]) {
    this.list = list;
    this.byType = new Map(list.map((e) => [e.type, e.data]));
  }

  get(type: number): Uint8Array | undefined {
    return this.byType.get(type);
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  /** Reads `Extension extensions<min..2^16-1>`. */
  static read(r: ByteReader, what: string, min = 0): Extensions {
    const block = r.sub(2, `${what} extensions`, min);
    const list: Extension[] = [];
    const seen = new Set<number>();
    while (block.remaining > 0) {
      const type = block.u16();
      const data = block.vector(2);
      // §4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
      if (seen.has(type)) fail(Alert.illegal_parameter, `${what}: duplicate extension ${type}`);
      seen.add(type);
      list.push({ type, data });
    }
    return new Extensions(list);
  }

  static write(w: ByteWriter, list: readonly Extension[]): void {
    w.vector(2, (b) => {
      for (const e of list) b.u16(e.type).vector(2, e.data);
    });
  }
}

function build(f: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  f(w);
  return w.finish();
}

function u16List(data: Uint8Array, what: string, lengthBytes: 1 | 2, min: number): number[] {
  const r = tlsReader(data, what);
  const list = r.sub(lengthBytes, what, min);
  r.expectEnd();
  if (list.remaining % 2 !== 0) fail(Alert.decode_error, `${what}: odd length`);
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u16());
  return out;
}

export const encodeU16List = (values: readonly number[], lengthBytes: 1 | 2 = 2): Uint8Array =>
  build((w) => w.vector(lengthBytes, (b) => values.forEach((v) => b.u16(v))));

export const decodeU16List = (data: Uint8Array, what: string, lengthBytes: 1 | 2 = 2): number[] =>
  u16List(data, what, lengthBytes, 2);

export const encodeU16 = (v: number): Uint8Array => Uint8Array.of(v >> 8, v & 0xff);

export function decodeU16(data: Uint8Array, what: string): number {
  const r = tlsReader(data, what);
  const v = r.u16();
  r.expectEnd();
  return v;
}

/** RFC 6066 §3 server_name: a list holding one host_name(0). */
export const encodeServerName = (host: string): Uint8Array =>
  build((w) => w.vector(2, (l) => l.u8(0).vector(2, new TextEncoder().encode(host))));

export function decodeServerName(data: Uint8Array): string | null {
  const r = tlsReader(data, 'server_name');
  const list = r.sub(2, 'server_name list', 1);
  r.expectEnd();
  let host: string | null = null;
  while (list.remaining > 0) {
    const type = list.u8();
    const name = list.vector(2, 1);
    // RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name of the same name_type."
    if (type === 0) {
      if (host !== null) fail(Alert.illegal_parameter, 'server_name: two host_name entries');
      host = decodeAscii(name, 'server_name');
    }
  }
  return host;
}

function decodeAscii(b: Uint8Array, what: string): string {
  for (const c of b)
    if (c < 0x21 || c > 0x7e) fail(Alert.illegal_parameter, `${what}: non-printable byte 0x${c.toString(16)}`);
  return new TextDecoder().decode(b);
}

/** RFC 7301 §3.1 ProtocolNameList. */
export const encodeAlpn = (protocols: readonly string[]): Uint8Array =>
  build((w) => w.vector(2, (l) => protocols.forEach((p) => l.vector(1, new TextEncoder().encode(p)))));

export function decodeAlpn(data: Uint8Array): string[] {
  const r = tlsReader(data, 'ALPN');
  const list = r.sub(2, 'ALPN list', 2);
  r.expectEnd();
  const out: string[] = [];
  // RFC 7301 §3.1: "Empty strings MUST NOT be included"
  while (list.remaining > 0) out.push(new TextDecoder('utf-8', { fatal: false }).decode(list.vector(1, 1)));
  return out;
}

export interface KeyShareEntry {
  group: number;
  keyExchange: Uint8Array;
}

const writeShare = (w: ByteWriter, s: KeyShareEntry): void => {
  w.u16(s.group).vector(2, s.keyExchange);
};

function readShare(r: ByteReader): KeyShareEntry {
  return { group: r.u16(), keyExchange: r.vector(2, 1) };
}

export const encodeClientKeyShares = (shares: readonly KeyShareEntry[]): Uint8Array =>
  build((w) => w.vector(2, (l) => shares.forEach((s) => writeShare(l, s))));

export function decodeClientKeyShares(data: Uint8Array): KeyShareEntry[] {
  const r = tlsReader(data, 'key_share');
  const list = r.sub(2, 'client_shares');
  r.expectEnd();
  const out: KeyShareEntry[] = [];
  while (list.remaining > 0) {
    const s = readShare(list);
    // §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group."
    if (out.some((o) => o.group === s.group))
      fail(Alert.illegal_parameter, `key_share: two shares for group ${s.group}`);
    out.push(s);
  }
  return out;
}

export const encodeServerKeyShare = (share: KeyShareEntry): Uint8Array => build((w) => writeShare(w, share));

export function decodeServerKeyShare(data: Uint8Array): KeyShareEntry {
  const r = tlsReader(data, 'key_share');
  const s = readShare(r);
  r.expectEnd();
  return s;
}

export interface PskIdentity {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  identities: PskIdentity[];
  binders: Uint8Array[];
  /** Length of the binders list including its 2-byte length: Truncate() removes this many bytes. */
  bindersLength: number;
}

/** §4.2.11 OfferedPsks; `binders` holds one entry of the right length per identity. */
export const encodeOfferedPsks = (identities: readonly PskIdentity[], binders: readonly Uint8Array[]): Uint8Array =>
  build((w) => {
    w.vector(2, (l) => identities.forEach((i) => l.vector(2, i.identity).u32(i.obfuscatedTicketAge)));
    w.vector(2, (l) => binders.forEach((b) => l.vector(1, b)));
  });

export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  const r = tlsReader(data, 'pre_shared_key');
  const ids = r.sub(2, 'PSK identities', 7);
  const bindersStart = r.offset;
  const bs = r.sub(2, 'PSK binders', 33);
  r.expectEnd();
  const identities: PskIdentity[] = [];
  while (ids.remaining > 0) identities.push({ identity: ids.vector(2, 1), obfuscatedTicketAge: ids.u32() });
  const binders: Uint8Array[] = [];
  while (bs.remaining > 0) binders.push(bs.vector(1, 32, 255));
  // §4.2.11: "the server MUST validate the corresponding binder value ... If this value is not
  // present or does not validate, the server MUST abort the handshake."
  if (binders.length !== identities.length)
    fail(Alert.illegal_parameter, 'pre_shared_key: binder count differs from identity count');
  return { identities, binders, bindersLength: data.length - bindersStart };
}

export function decodePskModes(data: Uint8Array): number[] {
  const r = tlsReader(data, 'psk_key_exchange_modes');
  const l = r.sub(1, 'psk_key_exchange_modes', 1);
  r.expectEnd();
  const out: number[] = [];
  while (l.remaining > 0) out.push(l.u8());
  return out;
}

export function decodeCookie(data: Uint8Array): Uint8Array {
  const r = tlsReader(data, 'cookie');
  const c = r.vector(2, 1);
  r.expectEnd();
  return c;
}

export const encodeCookie = (cookie: Uint8Array): Uint8Array => build((w) => w.vector(2, cookie));
