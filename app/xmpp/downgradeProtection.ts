/**
 * XEP-0474 SASL SCRAM Downgrade Protection: the hash of the mechanisms and channel-binding types
 * the server advertised, which the server signs into its SCRAM server-first-message as the
 * optional attribute "h" (RFC 5802 §5.1 allows such attributes). A MITM that strips mechanisms or
 * channel-binding types from the features changes what we hash, not what the server signed.
 */
import { createHash } from 'node:crypto';

/** What the server advertised on the SASL profile in use (SASL1 or SASL2, not both: §3.1 note). */
export interface AdvertisedSasl {
  mechanisms: string[];
  /** XEP-0440 channel-binding types; null when the server did not send <sasl-channel-binding/>. */
  channelBindingTypes: string[] | null;
}

/** §3.1: "All sorting operations MUST be performed using "i;octet" collation" (RFC 4790 §9.3). */
function octetSort(values: string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/**
 * §3.1, steps 1 to 5: S = sorted mechanisms joined by %x1E, then (only when XEP-0440 was used)
 * %x1F and the sorted channel-binding types joined by %x1E; the result is base64(hash(S)) with the
 * hash of the SCRAM mechanism in use.
 */
export function downgradeHash(advertised: AdvertisedSasl, hash: 'sha1' | 'sha256'): string {
  let s = octetSort(advertised.mechanisms).join('\x1e');
  if (advertised.channelBindingTypes !== null) s += '\x1f' + octetSort(advertised.channelBindingTypes).join('\x1e');
  return createHash(hash).update(s, 'utf8').digest('base64');
}
