/**
 * CertificateVerify signatures (RFC 8446bis §4.4.3, §4.2.3): the schemes we accept, how the signed
 * content is built, and signing/verification with node:crypto.
 */
import { constants, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { Alert, fail } from './alerts.ts';

export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
} as const;

/** What we accept in CertificateVerify, in preference order. */
export const SUPPORTED_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
];

/**
 * signature_algorithms_cert (§4.2.3): signatures inside certificates are checked by the verifier in
 * security/, not here, and public CAs still sign with PKCS#1 v1.5, so those are listed as well.
 */
export const CERTIFICATE_SIGNATURE_SCHEMES: readonly number[] = [
  ...SUPPORTED_SIGNATURE_SCHEMES,
  0x0603, // ecdsa_secp521r1_sha512
  0x0401, // rsa_pkcs1_sha256
  0x0501, // rsa_pkcs1_sha384
  0x0601, // rsa_pkcs1_sha512
];

export function signatureSchemeName(scheme: number): string {
  for (const [name, code] of Object.entries(SignatureScheme)) if (code === scheme) return name;
  return `0x${scheme.toString(16).padStart(4, '0')}`;
}

/**
 * §4.4.3: "The digital signature is then computed over the concatenation of: A string that consists
 * of octet 32 (0x20) repeated 64 times; The context string; A single 0 byte which serves as the
 * separator; The content to be signed".
 */
export function certificateVerifyContent(signer: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  const context = new TextEncoder().encode(`TLS 1.3, ${signer} CertificateVerify`);
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(context, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 65 + context.length);
  return out;
}

/** Which scheme fits a key, given the schemes the peer offered (undefined: none fits). */
export function chooseSignatureScheme(key: KeyObject, offered: readonly number[]): number | undefined {
  const fits = SUPPORTED_SIGNATURE_SCHEMES.filter((s) => offered.includes(s) && keyFitsScheme(key, s));
  return fits[0];
}

function keyFitsScheme(key: KeyObject, scheme: number): boolean {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (scheme) {
    case SignatureScheme.ecdsa_secp256r1_sha256:
      return key.asymmetricKeyType === 'ec' && curve === 'prime256v1';
    case SignatureScheme.ecdsa_secp384r1_sha384:
      return key.asymmetricKeyType === 'ec' && curve === 'secp384r1';
    case SignatureScheme.rsa_pss_rsae_sha256:
    case SignatureScheme.rsa_pss_rsae_sha384:
    case SignatureScheme.rsa_pss_rsae_sha512:
      // "rsae": the key is an rsaEncryption key (not an RSASSA-PSS one).
      return key.asymmetricKeyType === 'rsa';
    case SignatureScheme.ed25519:
      return key.asymmetricKeyType === 'ed25519';
    default:
      return false;
  }
}

function algorithmFor(scheme: number): { digest: string | null; options: Record<string, unknown> } {
  switch (scheme) {
    case SignatureScheme.ecdsa_secp256r1_sha256:
      return { digest: 'sha256', options: { dsaEncoding: 'der' } };
    case SignatureScheme.ecdsa_secp384r1_sha384:
      return { digest: 'sha384', options: { dsaEncoding: 'der' } };
    // §4.2.3: "The length of the Salt MUST be equal to the length of the output of the digest algorithm."
    case SignatureScheme.rsa_pss_rsae_sha256:
      return { digest: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } };
    case SignatureScheme.rsa_pss_rsae_sha384:
      return { digest: 'sha384', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } };
    case SignatureScheme.rsa_pss_rsae_sha512:
      return { digest: 'sha512', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } };
    case SignatureScheme.ed25519:
      return { digest: null, options: {} };
    default:
      throw new Error(`unsupported signature scheme ${scheme}`);
  }
}

export function signCertificateVerify(scheme: number, key: KeyObject, content: Uint8Array): Uint8Array {
  const { digest, options } = algorithmFor(scheme);
  return new Uint8Array(sign(digest, content, { key, ...options }));
}

/** The public key of a DER certificate; a certificate that does not parse is bad_certificate (§6.2). */
export function leafPublicKey(der: Uint8Array): KeyObject {
  try {
    return new X509Certificate(der).publicKey;
  } catch (err) {
    return fail(Alert.bad_certificate, `end-entity certificate does not parse: ${(err as Error).message}`);
  }
}

/**
 * Check a peer's CertificateVerify. §4.4.3: "If the verification fails, the receiver MUST terminate
 * the handshake with a "decrypt_error" alert."
 */
export function verifyCertificateVerify(
  scheme: number,
  offered: readonly number[],
  publicKey: KeyObject,
  content: Uint8Array,
  signature: Uint8Array,
): void {
  // §4.4.3: "the signature algorithm MUST be one offered in the client's "signature_algorithms" extension"
  if (!offered.includes(scheme) || !SUPPORTED_SIGNATURE_SCHEMES.includes(scheme)) {
    fail(Alert.illegal_parameter, `CertificateVerify uses ${signatureSchemeName(scheme)}, which was not offered`);
  }
  if (!keyFitsScheme(publicKey, scheme)) {
    fail(
      Alert.illegal_parameter,
      `CertificateVerify uses ${signatureSchemeName(scheme)} but the certificate key is ${publicKey.asymmetricKeyType}`,
    );
  }
  const { digest, options } = algorithmFor(scheme);
  let ok: boolean;
  try {
    ok = verify(digest, content, { key: publicKey, ...options }, signature);
  } catch (err) {
    return fail(Alert.decrypt_error, `CertificateVerify signature does not decode: ${(err as Error).message}`);
  }
  if (!ok) fail(Alert.decrypt_error, `CertificateVerify signature (${signatureSchemeName(scheme)}) does not verify`);
}
