/**
 * Test driver for ClientStreamMachine on a fake clock: feeds literal server bytes, collects what
 * the client writes and the events it reports. No sockets, no timers.
 */
import { ClientStreamMachine, type StreamEvent, type StreamMachineOptions } from '../../../app/xmpp/streamMachine.ts';

export const NS_HEADER = `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'`;

/** The header the client sends (tls: with from). */
export function clientHeader(domain: string, from: string | null): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'${from ? ` from='${from}'` : ''} version='1.0' xml:lang='en'>`;
}

/** A server stream header. */
export function serverHeader(id = 's1', domain = 'example.org'): string {
  return `<?xml version='1.0'?><stream:stream ${NS_HEADER} id='${id}' from='${domain}' version='1.0' xml:lang='en'>`;
}

export const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');

/** RFC 5802 §5 client nonce, as the 18 random bytes the machine base64-encodes. */
export const RFC5802_NONCE_BYTES = Buffer.from('fyko+d2lbbFgONRv9qkxdawL', 'base64');

/**
 * Deterministic randomness: 6 bytes (the id prefix) are zeros, 18 bytes (a SCRAM nonce) are the
 * given nonce bytes, anything else is a counter pattern.
 */
export function fixedRandom(nonce: Uint8Array = RFC5802_NONCE_BYTES): (n: number) => Uint8Array {
  let k = 0;
  return (n: number) => {
    if (n === 18) return Uint8Array.from(nonce);
    if (n === 6) return new Uint8Array(6);
    return Uint8Array.from({ length: n }, () => k++ & 0xff);
  };
}

/** The id prefix produced by fixedRandom (base64url of six zero bytes). */
export const ID_PREFIX = 'AAAAAAAA-';

export class Harness {
  readonly machine: ClientStreamMachine;
  now = 1_000;
  private readonly decoder = new TextDecoder();
  readonly allEvents: StreamEvent[] = [];

  constructor(options: Partial<StreamMachineOptions> = {}) {
    this.machine = new ClientStreamMachine({
      jid: 'user@example.org',
      password: 'pencil',
      resource: 'quiver',
      security: 'tls',
      randomBytes: fixedRandom(),
      ...options,
    });
  }

  start(): string {
    this.machine.start(this.now);
    return this.out();
  }

  /** Events handed out by the machine that `events()` has not returned yet. */
  private readonly pending: StreamEvent[] = [];

  /**
   * Feeds server bytes (a string is UTF-8 encoded) and returns what the client wrote in answer.
   * Like a driver, it takes every event as well (kept for `events()`): XEP-0198 counts a stanza
   * and answers an <r/> once the events before it were handed out.
   */
  feed(data: string | Uint8Array): string {
    this.machine.handleBytes(typeof data === 'string' ? new TextEncoder().encode(data) : data, this.now);
    for (let e = this.machine.pollEvent(); e; e = this.machine.pollEvent()) this.pending.push(e);
    return this.out();
  }

  /** Everything the client queued to send since the last call, as one string. */
  out(): string {
    let s = '';
    for (let d = this.machine.pollTransmit(); d; d = this.machine.pollTransmit()) s += this.decoder.decode(d);
    return s;
  }

  /** Events reported since the last call. */
  events(): StreamEvent[] {
    const evs: StreamEvent[] = this.pending.splice(0);
    for (let e = this.machine.pollEvent(); e; e = this.machine.pollEvent()) evs.push(e);
    this.allEvents.push(...evs);
    return evs;
  }

  /** Advances the fake clock to the machine's deadline and fires it. */
  fireTimeout(): void {
    const t = this.machine.pollTimeout();
    if (t === undefined) throw new Error('no deadline is set');
    this.now = t;
    this.machine.handleTimeout(this.now);
  }
}
export { seededRandom } from '../../support/seededRandom.ts';

/** Events as short strings: the type, or the error code for 'error' events. */
export function kinds(events: StreamEvent[]): string[] {
  return events.map((e) => (e.type === 'error' ? `error:${e.error.code}` : e.type));
}
