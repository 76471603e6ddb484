/**
 * Byte-level pre-scan of an incoming XML stream, run before ltx sees the data.
 *
 * ltx is a lenient SAX parser: it silently skips comments, processing instructions and DTDs, does
 * not match end tags and buffers without bound. This scanner enforces what RFC 6120 §11.1 demands
 * and the limits we set, and tells the framer where each top-level element ends so that the
 * framer can hand ltx exactly one stanza at a time.
 *
 * RFC 6120 §11.1: "the following features of XML are prohibited in XMPP: comments (as defined in
 * Section 2.5 of [XML]), processing instructions (Section 2.6 therein), internal or external DTD
 * subsets (Section 2.8 therein), internal or external entity references (Section 4.2 therein)
 * with the exception of the predefined entities (Section 4.6 therein)". A peer that sends them
 * gets the <restricted-xml/> stream error (RFC 6120 §4.9.3.18).
 *
 * It works on bytes, not characters: every byte that matters to XML syntax is ASCII and UTF-8
 * never uses ASCII values inside a multi-byte sequence, so chunk boundaries (even in the middle
 * of a character) need no special care here. UTF-8 validity is checked by the framer's decoder.
 */

/** The reason a scan stopped with an error: the RFC 6120 §4.9.3 condition we send, plus our code. */
export interface ScanError {
  kind: 'error';
  /** Index in the scanned buffer of the offending byte. */
  at: number;
  /** The stable code: 'not-well-formed' | 'restricted-xml' | 'stanza-too-big' | 'policy-violation' | 'unsupported-encoding'. */
  code: 'not-well-formed' | 'restricted-xml' | 'stanza-too-big' | 'policy-violation' | 'unsupported-encoding';
  detail: string;
}

export type ScanResult =
  /** A top-level unit (the stream header, one stanza, or the stream end) ends just before `end`. */
  | { kind: 'boundary'; end: number }
  /** Everything up to the end of the buffer was consumed without reaching a boundary. */
  | { kind: 'need-more' }
  | ScanError;

export interface ScanLimits {
  /** Maximum bytes of one top-level element (and of whatever precedes it). */
  maxStanzaBytes: number;
  /** Maximum element nesting inside a stanza; the stanza element itself is depth 1. */
  maxDepth: number;
}

const S_TEXT = 0;
const S_LT = 1;
const S_BANG = 2;
const S_CDATA = 3;
const S_PI_TARGET = 4;
const S_XML_DECL = 5;
const S_START_NAME = 6;
const S_TAG_SPACE = 7;
const S_ATTR_NAME = 8;
const S_ATTR_EQ = 9;
const S_ATTR_QUOTE = 10;
const S_ATTR_VALUE = 11;
const S_SELF_CLOSE = 12;
const S_END_NAME = 13;
const S_END_SPACE = 14;
const S_ENTITY = 15;
const S_BOM = 16;
const S_DONE = 17;
const S_FAILED = 18;

const MAX_ENTITY = 12;
const MAX_DECL = 256;

/**
 * Most attributes one start tag may carry. XMPP elements carry a handful (a Jingle candidate, among
 * the richest, has 13); the bound keeps the per-element work and the objects ltx builds small, so
 * that no stanza within `maxStanzaBytes` costs more than time linear in its size.
 */
export const MAX_ATTRIBUTES = 256;
/** Longest element or attribute name, in bytes (prefix included). XMPP names are a few dozen bytes. */
export const MAX_NAME_BYTES = 1024;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}
function isNameStart(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f || b === 0x3a || b >= 0x80;
}
function isNameChar(b: number): boolean {
  return isNameStart(b) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e;
}
/** XML 1.0 §2.2 Char: the code points an XML document may contain at all. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

export class XmlScanner {
  private readonly limits: ScanLimits;
  private state = S_TEXT;
  /** Open elements, the stream root included (the root is depth 1, a stanza depth 2). */
  private readonly stack: string[] = [];
  private name = '';
  private attrName = '';
  /** Attribute names of the start tag being read: a set, so the duplicate check costs O(1) per attribute. */
  private readonly attrNames = new Set<string>();
  private hadSpace = false;
  private quote = 0;
  private entity = '';
  private entityReturn = S_TEXT;
  private bang = '';
  private brackets = 0;
  private piTarget = '';
  private decl = '';
  private bomIndex = 0;
  /** Bytes since the last boundary: bounds what ltx buffers. */
  private unitBytes = 0;
  /** Bytes since the document began (a UTF-8 BOM excluded): an XML declaration must start at 0. */
  private docBytes = 0;

  constructor(limits: ScanLimits) {
    this.limits = limits;
  }

  /** True once the root element (the stream) has been closed: further bytes are ignored. */
  get done(): boolean {
    return this.state === S_DONE;
  }

  /**
   * Scans `buf` from `from`. Stops just after a boundary, at the end of the buffer, or at the
   * first error (after which every call returns an error until a new scanner is made).
   */
  scan(buf: Uint8Array, from: number): ScanResult {
    if (this.state === S_FAILED)
      return { kind: 'error', at: from, code: 'not-well-formed', detail: 'the stream already failed' };
    if (this.state === S_DONE) return { kind: 'need-more' };
    for (let i = from; i < buf.length; i++) {
      const b = buf[i]!;
      this.unitBytes++;
      this.docBytes++;
      if (this.unitBytes > this.limits.maxStanzaBytes) {
        return this.fail(
          i,
          'stanza-too-big',
          `a stanza is larger than the limit of ${this.limits.maxStanzaBytes} bytes`,
        );
      }
      // XML 1.0 §2.2: control characters other than TAB, LF and CR are not characters of XML.
      if (b < 0x20 && !isSpace(b)) return this.fail(i, 'not-well-formed', `control character 0x${b.toString(16)}`);
      const r = this.step(b, i);
      if (r !== null) return r;
    }
    return { kind: 'need-more' };
  }

  private fail(at: number, code: ScanError['code'], detail: string): ScanError {
    this.state = S_FAILED;
    return { kind: 'error', at, code, detail };
  }

  private boundary(i: number): ScanResult {
    this.unitBytes = 0;
    return { kind: 'boundary', end: i + 1 };
  }

  private step(b: number, i: number): ScanResult | null {
    switch (this.state) {
      case S_TEXT:
        if (b === 0x3c /* < */) {
          this.state = S_LT;
        } else if (b === 0x26 /* & */) {
          if (this.stack.length < 2) return this.fail(i, 'not-well-formed', 'character data outside a stanza');
          this.entity = '';
          this.entityReturn = S_TEXT;
          this.state = S_ENTITY;
        } else if (b === 0xef && this.docBytes === 1 && this.stack.length === 0) {
          this.state = S_BOM;
          this.bomIndex = 1;
        } else if (this.stack.length < 2 && !isSpace(b)) {
          // RFC 6120 §4.6.1 allows whitespace between stanzas (keepalives); other text there has no meaning.
          return this.fail(i, 'not-well-formed', 'character data outside a stanza');
        }
        return null;
      case S_BOM: {
        const expected = this.bomIndex === 1 ? 0xbb : 0xbf;
        if (b !== expected) return this.fail(i, 'not-well-formed', 'character data before the stream header');
        this.bomIndex++;
        if (this.bomIndex === 3) {
          this.state = S_TEXT;
          this.docBytes = 0;
        }
        return null;
      }
      case S_LT:
        if (b === 0x2f /* / */) {
          if (this.stack.length === 0) return this.fail(i, 'not-well-formed', 'end tag before the stream header');
          this.name = '';
          this.state = S_END_NAME;
        } else if (b === 0x21 /* ! */) {
          this.bang = '';
          this.state = S_BANG;
        } else if (b === 0x3f /* ? */) {
          // XML 1.0 §2.8: the XML declaration, if any, is the very first thing in the document.
          if (this.docBytes !== 2) return this.fail(i, 'restricted-xml', 'a processing instruction');
          this.piTarget = '';
          this.state = S_PI_TARGET;
        } else if (isNameStart(b)) {
          this.name = String.fromCharCode(b);
          this.attrNames.clear();
          this.state = S_START_NAME;
        } else {
          return this.fail(i, 'not-well-formed', "'<' not followed by a tag name");
        }
        return null;
      case S_BANG:
        this.bang += String.fromCharCode(b);
        if ('[CDATA['.startsWith(this.bang)) {
          if (this.bang === '[CDATA[') {
            if (this.stack.length < 2) return this.fail(i, 'not-well-formed', 'a CDATA section outside a stanza');
            this.brackets = 0;
            this.state = S_CDATA;
          }
          return null;
        }
        if (this.bang.startsWith('-')) return this.fail(i, 'restricted-xml', 'a comment');
        if (this.bang.startsWith('[')) return this.fail(i, 'not-well-formed', "a malformed '<![' section");
        return this.fail(i, 'restricted-xml', 'a document type declaration (DTD)');
      case S_CDATA:
        if (b === 0x5d /* ] */) {
          this.brackets++;
        } else {
          if (b === 0x3e /* > */ && this.brackets >= 2) this.state = S_TEXT;
          this.brackets = 0;
        }
        return null;
      case S_PI_TARGET:
        if (isSpace(b)) {
          if (this.piTarget !== 'xml') return this.fail(i, 'restricted-xml', 'a processing instruction');
          this.decl = '';
          this.state = S_XML_DECL;
        } else if (isNameChar(b) && this.piTarget.length < 8) {
          this.piTarget += String.fromCharCode(b);
        } else {
          return this.fail(i, 'restricted-xml', 'a processing instruction');
        }
        return null;
      case S_XML_DECL:
        if (b === 0x3e /* > */ && this.decl.endsWith('?')) {
          // RFC 6120 §11.6: XMPP streams are UTF-8 only; any other declared encoding gets <unsupported-encoding/>.
          const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(this.decl);
          if (enc && enc[1]!.toLowerCase() !== 'utf-8')
            return this.fail(i, 'unsupported-encoding', `the encoding ${enc[1]}`);
          this.state = S_TEXT;
          return null;
        }
        if (this.decl.length >= MAX_DECL) return this.fail(i, 'not-well-formed', 'an overlong XML declaration');
        this.decl += String.fromCharCode(b);
        return null;
      case S_START_NAME:
        if (isNameChar(b)) {
          if (this.name.length >= MAX_NAME_BYTES) return this.nameTooLong(i);
          this.name += String.fromCharCode(b);
        } else if (isSpace(b)) {
          this.hadSpace = true;
          this.state = S_TAG_SPACE;
        } else if (b === 0x2f /* / */) {
          this.state = S_SELF_CLOSE;
        } else if (b === 0x3e /* > */) {
          return this.openElement(i);
        } else {
          return this.fail(i, 'not-well-formed', 'an invalid character in a tag name');
        }
        return null;
      case S_TAG_SPACE:
        if (isSpace(b)) {
          this.hadSpace = true;
        } else if (b === 0x2f /* / */) {
          this.state = S_SELF_CLOSE;
        } else if (b === 0x3e /* > */) {
          return this.openElement(i);
        } else if (isNameStart(b) && this.hadSpace) {
          if (this.attrNames.size >= MAX_ATTRIBUTES) {
            return this.fail(i, 'policy-violation', `an element with more than ${MAX_ATTRIBUTES} attributes`);
          }
          this.attrName = String.fromCharCode(b);
          this.state = S_ATTR_NAME;
        } else {
          return this.fail(i, 'not-well-formed', 'a malformed start tag');
        }
        return null;
      case S_ATTR_NAME:
        if (isNameChar(b)) {
          if (this.attrName.length >= MAX_NAME_BYTES) return this.nameTooLong(i);
          this.attrName += String.fromCharCode(b);
          return null;
        }
        // XML 1.0 §3.1 (Unique Att Spec): "An attribute name MUST NOT appear more than once in the same
        // start-tag or empty-element tag."
        if (this.attrNames.has(this.attrName))
          return this.fail(i, 'not-well-formed', `a duplicate attribute ${this.attrName}`);
        this.attrNames.add(this.attrName);
        if (isSpace(b)) this.state = S_ATTR_EQ;
        else if (b === 0x3d /* = */) this.state = S_ATTR_QUOTE;
        else return this.fail(i, 'not-well-formed', 'a malformed attribute');
        return null;
      case S_ATTR_EQ:
        if (b === 0x3d) this.state = S_ATTR_QUOTE;
        else if (!isSpace(b)) return this.fail(i, 'not-well-formed', 'an attribute without a value');
        return null;
      case S_ATTR_QUOTE:
        if (b === 0x22 || b === 0x27) {
          this.quote = b;
          this.state = S_ATTR_VALUE;
        } else if (!isSpace(b)) {
          return this.fail(i, 'not-well-formed', 'an unquoted attribute value');
        }
        return null;
      case S_ATTR_VALUE:
        if (b === this.quote) {
          this.hadSpace = false;
          this.state = S_TAG_SPACE;
        } else if (b === 0x3c /* < */) {
          return this.fail(i, 'not-well-formed', "'<' in an attribute value");
        } else if (b === 0x26 /* & */) {
          this.entity = '';
          this.entityReturn = S_ATTR_VALUE;
          this.state = S_ENTITY;
        }
        return null;
      case S_SELF_CLOSE:
        if (b !== 0x3e) return this.fail(i, 'not-well-formed', "'/' not followed by '>' in a tag");
        return this.emptyElement(i);
      case S_END_NAME:
        if (this.name === '' ? isNameStart(b) : isNameChar(b)) {
          if (this.name.length >= MAX_NAME_BYTES) return this.nameTooLong(i);
          this.name += String.fromCharCode(b);
        } else if (isSpace(b) && this.name !== '') {
          this.state = S_END_SPACE;
        } else if (b === 0x3e && this.name !== '') {
          return this.closeElement(i);
        } else {
          return this.fail(i, 'not-well-formed', 'a malformed end tag');
        }
        return null;
      case S_END_SPACE:
        if (b === 0x3e) return this.closeElement(i);
        if (!isSpace(b)) return this.fail(i, 'not-well-formed', 'a malformed end tag');
        return null;
      case S_ENTITY:
        if (b === 0x3b /* ; */) {
          const bad = this.checkEntity(i);
          if (bad) return bad;
          this.state = this.entityReturn;
        } else if (this.entity.length < MAX_ENTITY && (isNameChar(b) || b === 0x23) /* # */) {
          this.entity += String.fromCharCode(b);
        } else {
          return this.fail(i, 'not-well-formed', "an unescaped '&'");
        }
        return null;
      default:
        return this.fail(i, 'not-well-formed', 'internal scanner state');
    }
  }

  private nameTooLong(i: number): ScanError {
    return this.fail(i, 'policy-violation', `an element or attribute name longer than ${MAX_NAME_BYTES} bytes`);
  }

  private checkEntity(i: number): ScanError | null {
    const e = this.entity;
    // XML 1.0 §4.6: the five predefined entities; §4.1: character references.
    if (e === 'amp' || e === 'lt' || e === 'gt' || e === 'quot' || e === 'apos') return null;
    const dec = /^#([0-9]{1,7})$/.exec(e);
    const hex = /^#x([0-9a-fA-F]{1,6})$/.exec(e);
    if (dec || hex) {
      const cp = dec ? parseInt(dec[1]!, 10) : parseInt(hex![1]!, 16);
      return isXmlChar(cp) ? null : this.fail(i, 'not-well-formed', `a reference to an illegal character (&${e};)`);
    }
    if (e !== '' && isNameStart(e.charCodeAt(0))) return this.fail(i, 'restricted-xml', `an entity reference (&${e};)`);
    return this.fail(i, 'not-well-formed', "an unescaped '&'");
  }

  private checkDepth(i: number, newDepth: number): ScanError | null {
    // Depth of the new element inside its stanza: the stream root is 1, so a stanza is 2 - 1 = 1.
    if (newDepth - 1 > this.limits.maxDepth) {
      return this.fail(i, 'policy-violation', `elements nested deeper than the limit of ${this.limits.maxDepth}`);
    }
    return null;
  }

  private openElement(i: number): ScanResult | null {
    const bad = this.checkDepth(i, this.stack.length + 1);
    if (bad) return bad;
    this.stack.push(this.name);
    this.state = S_TEXT;
    return this.stack.length === 1 ? this.boundary(i) : null;
  }

  private emptyElement(i: number): ScanResult | null {
    const bad = this.checkDepth(i, this.stack.length + 1);
    if (bad) return bad;
    this.state = this.stack.length === 0 ? S_DONE : S_TEXT;
    return this.stack.length <= 1 ? this.boundary(i) : null;
  }

  private closeElement(i: number): ScanResult | null {
    const open = this.stack.pop();
    // XML 1.0 §3 (Element Type Match): "The Name in an element's end-tag MUST match the element type in the start-tag."
    if (open !== this.name)
      return this.fail(i, 'not-well-formed', `the end tag </${this.name}> does not match <${open ?? ''}>`);
    if (this.stack.length === 0) {
      this.state = S_DONE;
      return this.boundary(i);
    }
    this.state = S_TEXT;
    return this.stack.length === 1 ? this.boundary(i) : null;
  }
}
