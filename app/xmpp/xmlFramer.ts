/**
 * XML stream framing (RFC 6120 §4): bytes in, one event per stream header, top-level element
 * and stream end out. ltx builds the elements; `XmlScanner` enforces RFC 6120 §11.1 and the
 * limits first and cuts the input at top-level boundaries, so a stream restart (after TLS or
 * SASL) can happen between two elements of the same chunk without losing or misparsing bytes.
 */
import { TextDecoder } from 'node:util';
import { Element } from 'ltx';
import SaxLtxModule from 'ltx/src/parsers/ltx.js';
import { XmlScanner, type ScanLimits } from './xmlScanner.ts';

export type FrameEvent =
  /** The peer's stream header (attributes only; it has no children). */
  | { type: 'stream-start'; header: Element }
  /** A complete top-level element; its `parent` is the header so `getNS()` resolves inherited namespaces. */
  | { type: 'element'; element: Element }
  /** </stream:stream> */
  | { type: 'stream-end' }
  | {
      type: 'error';
      code: 'not-well-formed' | 'restricted-xml' | 'stanza-too-big' | 'policy-violation' | 'unsupported-encoding';
      detail: string;
    };

const EMPTY = new Uint8Array(0);

/** The part of ltx's streaming SAX parser we use (its published typings describe it wrongly). */
interface SaxLtx {
  write(data: string): void;
  on(event: 'startElement', listener: (name: string, attrs: Record<string, string>) => void): void;
  on(event: 'endElement', listener: (name: string, selfClosing: boolean) => void): void;
  on(event: 'text', listener: (text: string) => void): void;
  removeAllListeners(): void;
}
const SaxLtx = SaxLtxModule as unknown as new () => SaxLtx;

export class XmlFramer {
  private readonly limits: ScanLimits;
  private scanner: XmlScanner;
  private decoder: TextDecoder;
  private sax: SaxLtx;
  private root: Element | null = null;
  private cursor: Element | null = null;
  private readonly queue: FrameEvent[] = [];
  private pending: Uint8Array = EMPTY;
  private offset = 0;
  private failed = false;
  private saxError: string | null = null;
  /** Scanned bytes of the unit (header, stanza) not complete yet; bounded by maxStanzaBytes. */
  private readonly unit: Uint8Array[] = [];

  constructor(limits: ScanLimits) {
    this.limits = limits;
    this.scanner = new XmlScanner(limits);
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    this.sax = this.makeSax();
  }

  /** Appends received bytes. Call `next()` until it returns undefined. */
  push(bytes: Uint8Array): void {
    if (this.failed || bytes.length === 0) return;
    if (this.offset >= this.pending.length) {
      this.pending = bytes;
    } else {
      const rest = this.pending.subarray(this.offset);
      const joined = new Uint8Array(rest.length + bytes.length);
      joined.set(rest, 0);
      joined.set(bytes, rest.length);
      this.pending = joined;
    }
    this.offset = 0;
  }

  /** The next framing event, or undefined when more bytes are needed. After an 'error' event, always undefined. */
  next(): FrameEvent | undefined {
    for (;;) {
      const queued = this.queue.shift();
      if (queued) return queued;
      if (this.failed || this.offset >= this.pending.length) return undefined;
      if (this.scanner.done) {
        // RFC 6120 §4.4: nothing follows the closing stream tag; drop it.
        this.offset = this.pending.length;
        return undefined;
      }
      const r = this.scanner.scan(this.pending, this.offset);
      if (r.kind === 'error') {
        this.failWith(r.code, r.detail);
        continue;
      }
      if (r.kind === 'need-more') {
        // ltx mishandles some constructs split across writes (e.g. the '?>' of the XML
        // declaration), so it only ever sees whole units; the scanner bounds their size.
        this.unit.push(this.pending.slice(this.offset));
        this.offset = this.pending.length;
        continue;
      }
      this.unit.push(this.pending.subarray(this.offset, r.end));
      this.offset = r.end;
      this.feedUnit();
    }
  }

  /** Bytes received but not parsed yet (they follow the last event returned). */
  unparsed(): Uint8Array {
    return this.pending.subarray(this.offset);
  }

  /**
   * RFC 6120 §5.4.3.3 and §6.4.6: after TLS and after SASL success the client opens a new stream:
   * a new XML document begins. Parser state is discarded; bytes not parsed yet are kept for the new document.
   */
  reset(): void {
    this.scanner = new XmlScanner(this.limits);
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    this.sax.removeAllListeners();
    this.sax = this.makeSax();
    this.root = null;
    this.cursor = null;
    this.queue.length = 0;
    this.unit.length = 0;
    this.failed = false;
  }

  /** Forgets all unparsed bytes (used when they must not be trusted, e.g. plaintext after <proceed/>). */
  discardUnparsed(): void {
    this.pending = EMPTY;
    this.offset = 0;
  }

  private failWith(code: Extract<FrameEvent, { type: 'error' }>['code'], detail: string): void {
    if (this.failed) return;
    this.failed = true;
    this.unit.length = 0;
    this.offset = this.pending.length;
    this.queue.push({ type: 'error', code, detail });
  }

  private feedUnit(): void {
    const parts = this.unit.splice(0);
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch (e) {
      // RFC 6120 §11.6: the stream is UTF-8; an invalid sequence is not well-formed XML.
      this.failWith('not-well-formed', `invalid UTF-8 (${(e as Error).message})`);
      return;
    }
    try {
      this.sax.write(text);
    } catch (e) {
      // ltx throws on character references it cannot decode; the scanner should have caught them first.
      this.saxError ??= (e as Error).message;
    }
    if (this.saxError !== null) {
      const detail = this.saxError;
      this.saxError = null;
      this.failWith('not-well-formed', detail);
    }
  }

  private makeSax(): SaxLtx {
    const sax = new SaxLtx();
    sax.on('startElement', (name: string, attrs: Record<string, string>) => {
      const el = new Element(name, attrs);
      if (!this.root) {
        this.root = el;
        this.queue.push({ type: 'stream-start', header: el });
      } else if (this.cursor) {
        this.cursor = this.cursor.cnode(el);
      } else {
        el.parent = this.root;
        this.cursor = el;
      }
    });
    sax.on('endElement', (name: string) => {
      const cursor = this.cursor;
      if (!cursor) {
        if (this.root && name === this.root.name) this.queue.push({ type: 'stream-end' });
        else this.saxError = `unexpected end tag </${name}>`;
        return;
      }
      if (name !== cursor.name) {
        this.saxError = `the end tag </${name}> does not match <${cursor.name}>`;
        return;
      }
      if (cursor.parent === this.root) {
        this.cursor = null;
        this.queue.push({ type: 'element', element: cursor });
      } else {
        this.cursor = cursor.parent;
      }
    });
    sax.on('text', (text: string) => {
      // Whitespace between stanzas (keepalives) lands here with no cursor; the scanner rejects other text there.
      if (this.cursor) this.cursor.t(text);
    });
    return sax;
  }
}
