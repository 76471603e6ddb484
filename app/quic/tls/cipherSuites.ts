/**
 * The TLS 1.3 cipher suites Quiver offers for QUIC (RFC 8446bis §B.4; RFC 9001 §5.3 forbids
 * TLS_AES_128_CCM_8_SHA256 and we do not offer TLS_AES_128_CCM_SHA256).
 */
export interface CipherSuiteInfo {
  id: number;
  name: 'TLS_AES_128_GCM_SHA256' | 'TLS_AES_256_GCM_SHA384' | 'TLS_CHACHA20_POLY1305_SHA256';
  hash: 'sha256' | 'sha384';
  aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  keyLength: number;
}

export const TLS_AES_128_GCM_SHA256 = 0x1301;
export const TLS_AES_256_GCM_SHA384 = 0x1302;
export const TLS_CHACHA20_POLY1305_SHA256 = 0x1303;

const SUITES: readonly CipherSuiteInfo[] = [
  { id: TLS_AES_128_GCM_SHA256, name: 'TLS_AES_128_GCM_SHA256', hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16 },
  { id: TLS_AES_256_GCM_SHA384, name: 'TLS_AES_256_GCM_SHA384', hash: 'sha384', aead: 'aes-256-gcm', keyLength: 32 },
  {
    id: TLS_CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    hash: 'sha256',
    aead: 'chacha20-poly1305',
    keyLength: 32,
  },
];

export const DEFAULT_CIPHER_SUITES: readonly number[] = SUITES.map((s) => s.id);

export function cipherSuiteById(id: number): CipherSuiteInfo | undefined {
  return SUITES.find((s) => s.id === id);
}
