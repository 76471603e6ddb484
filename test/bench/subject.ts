/**
 * What `npm run bench` measures of a transport (test/bench/run.ts), and what the subjects share.
 */
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../unit/quic/fixtures/', import.meta.url);
export const KEY_PEM = readFileSync(new URL('server.key.pem', FIXTURES), 'utf8');
export const CERT_PEM = readFileSync(new URL('server.cert.pem', FIXTURES), 'utf8');
export const ALPN = 'xmpp-client';

/** What a transport must provide to be measured. */
export interface Subject {
  name: string;
  /** Bytes to transfer per throughput run (smaller for slow subjects so the bench stays bounded). */
  bytes: { small: number; large: number };
  setup(): Promise<void>;
  /** One connection; resolves when usable. */
  connect(): Promise<Conn>;
  teardown(): Promise<void>;
}

export interface Conn {
  /** Sends `total` bytes in `chunk`-sized writes on one new stream; resolves when the server has them all. */
  transfer(total: number, chunk: number): Promise<void>;
  /** Opens `n` streams and writes one byte on each; resolves when the server saw them all. */
  openStreams(n: number): Promise<void>;
  close(): Promise<void>;
}
