/**
 * Certificates made at test time (ECDSA P-256, signed with pkijs over WebCrypto): CAs,
 * intermediates and leaves with exactly the names and flaws a test needs.
 *
 * pkijs rather than @peculiar/x509: the latter needs a Reflect metadata polyfill that is not
 * installed, and pkijs is what the code under test uses anyway.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const engine = new pkijs.CryptoEngine({ name: 'test-webcrypto', crypto: globalThis.crypto });
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface IssuedCertificate {
  der: Uint8Array;
  keys: CryptoKeyPair;
  certificate: pkijs.Certificate;
}

export interface CertificateSpec {
  /** Subject CN; omit for a subject with only O. */
  cn?: string;
  o?: string;
  /** Absent: self-signed. */
  issuer?: IssuedCertificate;
  /** Set basicConstraints cA (with an optional pathLenConstraint). */
  ca?: boolean | { pathLength: number };
  /** keyUsage bits as the first octet of the BIT STRING (0x80 digitalSignature, 0x04 keyCertSign, 0x02 cRLSign); null: no extension. CAs default to 0x06. */
  keyUsage?: number | null;
  extKeyUsage?: string[];
  dnsNames?: string[];
  srvNames?: string[];
  xmppAddrs?: string[];
  /** Raw iPAddress octets. */
  ipAddresses?: number[][];
  notBefore?: Date;
  notAfter?: Date;
  /** Adds authorityInfoAccess caIssuers with this URL. */
  caIssuersUrl?: string;
  keys?: CryptoKeyPair;
  /** Sign with this key instead of the issuer's (a bad signature). */
  signingKey?: CryptoKey;
  /** An XmppAddr wrongly encoded as IA5String (RFC 6120 §13.7.1.4 says UTF8String): a malformed SAN. */
  badXmppAddr?: string;
  /** A critical extension nobody recognises. */
  unknownCriticalExtension?: boolean;
  /** A critical nameConstraints extension (RFC 5280 §4.2.1.10) with these dNSName subtrees. */
  nameConstraints?: { permitted?: string[]; excluded?: string[] };
}

export const VALID_FROM = new Date('2026-01-01T00:00:00Z');
export const VALID_TO = new Date('2028-01-01T00:00:00Z');
/** A time inside the default validity window. */
export const NOW = new Date('2026-11-22T12:00:00Z');

let serial = 1;

export async function newKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function makeCertificate(spec: CertificateSpec): Promise<IssuedCertificate> {
  const keys = spec.keys ?? (await newKeys());
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ value: serial++ });
  if (spec.o)
    certificate.subject.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1js.Utf8String({ value: spec.o }) }),
    );
  if (spec.cn)
    certificate.subject.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: spec.cn }) }),
    );
  certificate.issuer = spec.issuer ? spec.issuer.certificate.subject : certificate.subject;
  certificate.notBefore.value = spec.notBefore ?? VALID_FROM;
  certificate.notAfter.value = spec.notAfter ?? VALID_TO;
  certificate.extensions = [];
  const add = (extnID: string, critical: boolean, value: ArrayBuffer): void => {
    certificate.extensions?.push(new pkijs.Extension({ extnID, critical, extnValue: value }));
  };
  if (spec.ca) {
    const pathLenConstraint = typeof spec.ca === 'object' ? spec.ca.pathLength : undefined;
    add(
      '2.5.29.19',
      true,
      new pkijs.BasicConstraints(pathLenConstraint === undefined ? { cA: true } : { cA: true, pathLenConstraint })
        .toSchema()
        .toBER(false),
    );
  }
  const keyUsage = spec.keyUsage === undefined ? (spec.ca ? 0x06 : 0x80) : spec.keyUsage;
  if (keyUsage !== null)
    add(
      '2.5.29.15',
      true,
      new asn1js.BitString({ valueHex: new Uint8Array([keyUsage]).buffer, unusedBits: 1 }).toBER(false),
    );
  if (spec.extKeyUsage)
    add('2.5.29.37', false, new pkijs.ExtKeyUsage({ keyPurposes: spec.extKeyUsage }).toSchema().toBER(false));
  const altNames = subjectAltNames(spec);
  if (altNames.length > 0) add('2.5.29.17', false, new asn1js.Sequence({ value: altNames }).toBER(false));
  if (spec.caIssuersUrl) {
    const access = new pkijs.InfoAccess({
      accessDescriptions: [
        new pkijs.AccessDescription({
          accessMethod: '1.3.6.1.5.5.7.48.2',
          accessLocation: new pkijs.GeneralName({ type: 6, value: spec.caIssuersUrl }),
        }),
      ],
    });
    add('1.3.6.1.5.5.7.1.1', false, access.toSchema().toBER(false));
  }
  if (spec.nameConstraints) {
    const subtrees = (names: string[] | undefined) =>
      (names ?? []).map((name) => new pkijs.GeneralSubtree({ base: new pkijs.GeneralName({ type: 2, value: name }) }));
    const { permitted, excluded } = spec.nameConstraints;
    const constraints = new pkijs.NameConstraints({
      ...(permitted ? { permittedSubtrees: subtrees(permitted) } : {}),
      ...(excluded ? { excludedSubtrees: subtrees(excluded) } : {}),
    });
    add('2.5.29.30', true, constraints.toSchema().toBER(false));
  }
  if (spec.unknownCriticalExtension) add('1.3.6.1.4.1.99999.1', true, new asn1js.Null().toBER(false));
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await certificate.sign(spec.signingKey ?? spec.issuer?.keys.privateKey ?? keys.privateKey, 'SHA-256', engine);
  return { der: new Uint8Array(certificate.toSchema(true).toBER(false)), keys, certificate };
}

function subjectAltNames(spec: CertificateSpec): asn1js.BaseBlock[] {
  const context = (tagNumber: number): { tagClass: number; tagNumber: number } => ({ tagClass: 3, tagNumber });
  const otherName = (oid: string, value: asn1js.BaseBlock): asn1js.BaseBlock =>
    new asn1js.Constructed({
      idBlock: context(0),
      value: [
        new asn1js.ObjectIdentifier({ value: oid }),
        new asn1js.Constructed({ idBlock: context(0), value: [value] }),
      ],
    });
  return [
    ...(spec.dnsNames ?? []).map(
      (name) => new asn1js.Primitive({ idBlock: context(2), valueHex: new TextEncoder().encode(name).buffer }),
    ),
    ...(spec.srvNames ?? []).map((name) => otherName('1.3.6.1.5.5.7.8.7', new asn1js.IA5String({ value: name }))),
    ...(spec.xmppAddrs ?? []).map((name) => otherName('1.3.6.1.5.5.7.8.5', new asn1js.Utf8String({ value: name }))),
    ...(spec.badXmppAddr ? [otherName('1.3.6.1.5.5.7.8.5', new asn1js.IA5String({ value: spec.badXmppAddr }))] : []),
    ...(spec.ipAddresses ?? []).map(
      (octets) => new asn1js.Primitive({ idBlock: context(7), valueHex: new Uint8Array(octets).buffer }),
    ),
  ];
}

/** DER -> PEM (RFC 7468). */
export function toPem(der: Uint8Array): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/** A root CA, an intermediate under it, and a leaf for alpha.test under the intermediate. */
export async function makeHierarchy(
  leafSpec: Omit<CertificateSpec, 'issuer'> = {},
): Promise<{ root: IssuedCertificate; intermediate: IssuedCertificate; leaf: IssuedCertificate }> {
  const root = await makeCertificate({ cn: 'Quiver Test Root', o: 'Quiver Tests', ca: true });
  const intermediate = await makeCertificate({
    cn: 'Quiver Test Intermediate',
    o: 'Quiver Tests',
    ca: { pathLength: 0 },
    issuer: root,
  });
  const leaf = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    ...leafSpec,
    issuer: intermediate,
  });
  return { root, intermediate, leaf };
}
