/**
 * X.509 certificates as the verifier sees them (RFC 5280 §4.1), parsed with pkijs/asn1js.
 *
 * The names that matter for XMPP (RFC 6120 §13.7.1.2, RFC 6125 §6) are pulled out of the
 * subjectAltName extension by type: dNSName, SRVName (RFC 4985) and id-on-xmppAddr
 * (RFC 6120 §13.7.1.4), plus iPAddress for display. Anything malformed becomes a
 * `SecurityError('bad-certificate')`: a hostile server's bytes never crash the client.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CertificateSummary } from '../contract/viewModels.ts';
import { SecurityError } from './securityError.ts';

export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
/** RFC 4985 §2: id-on-dnsSRV, the SRVName otherName (IA5String). */
export const OID_ON_DNS_SRV = '1.3.6.1.5.5.7.8.7';
/** RFC 6120 §13.7.1.4: id-on-xmppAddr, the XmppAddr otherName (UTF8String). */
export const OID_ON_XMPP_ADDR = '1.3.6.1.5.5.7.8.5';
const OID_COMMON_NAME = '2.5.4.3';

/** Certificates larger than this are not parsed (a real server certificate is a few KiB). */
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export interface SubjectAltNames {
  dnsNames: string[];
  /** SRVName values, e.g. `_xmpp-client.example.org`. */
  srvNames: string[];
  /** XmppAddr values (JIDs; for a server, its domain). */
  xmppAddrs: string[];
  /** iPAddress values as text (`192.0.2.1`, `2001:db8::1`). */
  ipAddresses: string[];
}

export interface ParsedCertificate {
  /** The DER as given. */
  der: Uint8Array;
  /** RFC 4514-style, most specific first: `CN=alpha.test, O=Example`. */
  subject: string;
  issuer: string;
  subjectAltNames: SubjectAltNames;
  /** Every CN attribute of the subject, in DER order (least to most specific). */
  commonNames: string[];
  /** The most specific CN (the last one), or null. */
  commonName: string | null;
  notBefore: Date;
  notAfter: Date;
  /** The DER SubjectPublicKeyInfo, byte for byte as in the certificate (what pins and DANE selector 1 hash). */
  spki: Uint8Array;
  /** Subject and issuer are the same name (RFC 5280 §3.2 "self-issued"). */
  selfIssued: boolean;
}

/**
 * Decodes DER into a pkijs Certificate. Rejects trailing bytes and oversized input.
 * @throws SecurityError `bad-certificate`
 */
export function decodeCertificate(der: Uint8Array): pkijs.Certificate {
  if (der.byteLength === 0 || der.byteLength > MAX_CERTIFICATE_BYTES) {
    throw new SecurityError(
      'bad-certificate',
      `The certificate is ${der.byteLength} bytes long, which is not a plausible certificate.`,
    );
  }
  // asn1js throws (e.g. 'Wrong input string for conversion') on some malformed values instead of
  // reporting offset -1: found by the byte-flipping test with a fresh random certificate.
  let asn1: ReturnType<typeof asn1js.fromBER>;
  try {
    asn1 = asn1js.fromBER(der);
  } catch (error) {
    throw new SecurityError('bad-certificate', 'The server sent data that is not a DER-encoded certificate.', {
      cause: error,
    });
  }
  if (asn1.offset === -1 || asn1.offset !== der.byteLength) {
    throw new SecurityError('bad-certificate', 'The server sent data that is not a DER-encoded certificate.');
  }
  try {
    return new pkijs.Certificate({ schema: asn1.result });
  } catch (error) {
    throw new SecurityError(
      'bad-certificate',
      `The server sent a certificate that cannot be parsed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Parses a certificate into the facts the verifier needs.
 * @throws SecurityError `bad-certificate` on malformed DER or a malformed subjectAltName.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const certificate = decodeCertificate(der);
  try {
    const commonNames = certificate.subject.typesAndValues
      .filter((attribute) => attribute.type === OID_COMMON_NAME)
      .map((attribute) => attributeText(attribute.value));
    return {
      der,
      subject: formatName(certificate.subject),
      issuer: formatName(certificate.issuer),
      subjectAltNames: readSubjectAltNames(certificate),
      commonNames,
      commonName: commonNames.at(-1) ?? null,
      notBefore: certificate.notBefore.value,
      notAfter: certificate.notAfter.value,
      spki: spkiBytes(der),
      selfIssued: certificate.subject.isEqual(certificate.issuer),
    };
  } catch (error) {
    if (error instanceof SecurityError) throw error;
    throw new SecurityError(
      'bad-certificate',
      `The server sent a certificate that cannot be parsed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The contract's view of a certificate (stored in the SecurityRecord, shown in the UI). */
export function summarizeCertificate(der: Uint8Array): CertificateSummary {
  const parsed = parseCertificate(der);
  const names = parsed.subjectAltNames;
  return {
    subject: parsed.subject,
    issuer: parsed.issuer,
    subjectAltNames: [
      ...names.dnsNames.map((name) => `dns:${name}`),
      ...names.srvNames.map((name) => `srv:${name}`),
      ...names.xmppAddrs.map((name) => `xmpp:${name}`),
      ...names.ipAddresses.map((address) => `ip:${address}`),
    ],
    notBefore: parsed.notBefore.toISOString(),
    notAfter: parsed.notAfter.toISOString(),
    sha256: sha256Hex(der),
    spkiSha256: sha256Hex(parsed.spki),
  };
}

/**
 * Summaries of a whole chain as the server sent it, for the SecurityRecord. Never throws: a
 * certificate that does not parse is still recorded (its DER hash, and why it is unreadable), since
 * the record of a refused connection matters most when the server sent junk.
 */
export function summarizeChain(chain: Uint8Array[]): CertificateSummary[] {
  return chain.map((der) => {
    try {
      return summarizeCertificate(der);
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      return {
        subject: `(unreadable: ${error.message})`,
        issuer: '',
        subjectAltNames: [],
        notBefore: '',
        notAfter: '',
        sha256: sha256Hex(der),
        spkiSha256: '',
      };
    }
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** RFC 4514 §2.1: the RDNs in reverse order (most specific first), special characters escaped. */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map(
      (attribute) =>
        `${SHORT_NAMES[attribute.type] ?? attribute.type}=${escapeRdnValue(attributeText(attribute.value))}`,
    )
    .reverse()
    .join(', ');
}

function escapeRdnValue(value: string): string {
  // RFC 4514 §2.4: escape , + " \ < > ; and a leading # or space, a trailing space.
  return value
    .replace(/[,+"\\<>;]/g, (c) => `\\${c}`)
    .replace(/^([# ])/, '\\$1')
    .replace(/ $/, '\\ ');
}

function attributeText(value: unknown): string {
  const block = value as { valueBlock?: { value?: unknown; valueHexView?: Uint8Array } };
  if (typeof block.valueBlock?.value === 'string') return block.valueBlock.value;
  if (block.valueBlock?.valueHexView) return `#${Buffer.from(block.valueBlock.valueHexView).toString('hex')}`;
  return '';
}

function readSubjectAltNames(certificate: pkijs.Certificate): SubjectAltNames {
  const names: SubjectAltNames = { dnsNames: [], srvNames: [], xmppAddrs: [], ipAddresses: [] };
  const extensions = (certificate.extensions ?? []).filter((extension) => extension.extnID === OID_SUBJECT_ALT_NAME);
  // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
  if (extensions.length > 1)
    throw new SecurityError('bad-certificate', 'The certificate has more than one subjectAltName extension.');
  const extension = extensions[0];
  if (!extension) return names;
  const raw = extension.extnValue.valueBlock.valueHexView;
  const asn1 = asn1js.fromBER(raw);
  if (asn1.offset === -1 || asn1.offset !== raw.byteLength || !(asn1.result instanceof asn1js.Sequence)) {
    throw new SecurityError('bad-certificate', "The certificate's subjectAltName extension is malformed.");
  }
  for (const generalName of asn1.result.valueBlock.value) {
    const { tagClass, tagNumber } = generalName.idBlock;
    if (tagClass !== 3)
      throw new SecurityError(
        'bad-certificate',
        "The certificate's subjectAltName holds an entry that is not a GeneralName.",
      );
    // RFC 5280 §4.2.1.6: GeneralName ::= CHOICE { otherName [0], ..., dNSName [2] IA5String, ..., iPAddress [7] OCTET STRING, ... }
    if (tagNumber === 2) names.dnsNames.push(ia5Text(primitiveBytes(generalName)));
    else if (tagNumber === 7) names.ipAddresses.push(formatIpAddress(primitiveBytes(generalName)));
    else if (tagNumber === 0) readOtherName(generalName, names);
  }
  return names;
}

/** OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY DEFINED BY type-id } */
function readOtherName(generalName: asn1js.AsnType, names: SubjectAltNames): void {
  const parts = (generalName as asn1js.Constructed).valueBlock.value;
  const typeId = parts?.[0];
  const wrapper = parts?.[1];
  if (
    !(typeId instanceof asn1js.ObjectIdentifier) ||
    !wrapper ||
    wrapper.idBlock.tagClass !== 3 ||
    wrapper.idBlock.tagNumber !== 0
  ) {
    throw new SecurityError('bad-certificate', "The certificate's subjectAltName holds a malformed otherName.");
  }
  const oid = typeId.valueBlock.toString();
  const inner = (wrapper as asn1js.Constructed).valueBlock.value?.[0];
  if (oid === OID_ON_DNS_SRV) {
    // RFC 4985 §2: SRVName ::= IA5String (SIZE (1..MAX))
    if (!(inner instanceof asn1js.IA5String))
      throw new SecurityError('bad-certificate', "The certificate's SRVName is not an IA5String.");
    names.srvNames.push(inner.valueBlock.value);
  } else if (oid === OID_ON_XMPP_ADDR) {
    // RFC 6120 §13.7.1.4: XmppAddr ::= UTF8String
    if (!(inner instanceof asn1js.Utf8String))
      throw new SecurityError('bad-certificate', "The certificate's XmppAddr is not a UTF8String.");
    names.xmppAddrs.push(inner.valueBlock.value);
  }
}

function primitiveBytes(block: asn1js.AsnType): Uint8Array {
  const view = (block as asn1js.Primitive).valueBlock?.valueHexView;
  if (!(view instanceof Uint8Array) || (block as asn1js.BaseBlock).idBlock.isConstructed) {
    throw new SecurityError('bad-certificate', "The certificate's subjectAltName holds a malformed entry.");
  }
  return view;
}

/** IA5 is 7-bit; a byte above 0x7f is kept visible (as U+FFFD) so that it can never match a name. */
function ia5Text(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => (byte < 0x80 ? String.fromCharCode(byte) : '\uFFFD')).join('');
}

function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  return `#${Buffer.from(bytes).toString('hex')}`;
}

/** The SubjectPublicKeyInfo exactly as encoded in the certificate (re-encoding could change the bytes a pin hashes). */
function spkiBytes(der: Uint8Array): Uint8Array {
  const asn1 = asn1js.fromBER(der);
  const tbs = (asn1.result as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence | undefined;
  const fields = tbs?.valueBlock.value ?? [];
  // RFC 5280 §4.1: TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature,
  //   issuer, validity, subject, subjectPublicKeyInfo, ... }
  const hasVersion = fields[0]?.idBlock.tagClass === 3 && fields[0]?.idBlock.tagNumber === 0;
  const spki = fields[hasVersion ? 6 : 5];
  if (!spki) throw new SecurityError('bad-certificate', 'The certificate has no subjectPublicKeyInfo.');
  return new Uint8Array(spki.valueBeforeDecodeView);
}
