/**
 * XEP-0484 Fast Authentication Streamlining Tokens (FAST): which token mechanism to use or ask
 * for, the HT-* SASL messages (draft-schmaus-kitten-sasl-ht, the mechanism family XEP-0484 §3
 * names) and the <token/> the server issues in SASL2 <success/>.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Element } from 'ltx';
import { NS_FAST } from './namespaces.ts';
import { parseDateTime } from './delay.ts';
import type { ChannelBinding } from './scram.ts';

/** A token the server issued, bound to the mechanism it was requested for (§3.3). */
export interface FastCredentials {
  mechanism: string;
  token: string;
}

/** HT mechanism name suffix -> the channel-binding type it binds to (null: none). */
const BINDING_OF: Record<string, string | null> = {
  'HT-SHA-256-EXPR': 'tls-exporter',
  'HT-SHA-256-UNIQ': 'tls-unique',
  'HT-SHA-256-ENDP': 'tls-server-end-point',
  'HT-SHA-256-NONE': null,
};
/** Strongest first: channel binding "MUST be preferred" (§6 Security Considerations). */
const PREFERENCE = ['HT-SHA-256-EXPR', 'HT-SHA-256-UNIQ', 'HT-SHA-256-ENDP', 'HT-SHA-256-NONE'];

/** The FAST mechanisms listed in SASL2 <inline><fast xmlns='urn:xmpp:fast:0'/>; null when FAST is not offered. */
export function fastOffer(sasl2Inline: Element | undefined): string[] | null {
  const fast = sasl2Inline?.getChildElements().find((c) => c.getName() === 'fast' && c.getNS() === NS_FAST);
  if (!fast) return null;
  return fast
    .getChildElements()
    .filter((c) => c.getName() === 'mechanism')
    .map((c) => c.getText().trim());
}

/** Whether `mechanism` is an HT mechanism we can run on this TLS session. */
export function usableFastMechanism(mechanism: string, binding: ChannelBinding | null): boolean {
  if (!(mechanism in BINDING_OF)) return false;
  const type = BINDING_OF[mechanism];
  return type === null || (binding !== null && binding.type === type);
}

/**
 * The mechanism to request a token for: the strongest offered one whose channel binding this
 * session has; HT-SHA-256-NONE only when no binding one fits. Null when none fits.
 */
export function fastMechanismToRequest(offered: string[], binding: ChannelBinding | null): string | null {
  return PREFERENCE.find((m) => offered.includes(m) && usableFastMechanism(m, binding)) ?? null;
}

function cbData(mechanism: string, binding: ChannelBinding | null): Buffer {
  return BINDING_OF[mechanism] === null || binding === null ? Buffer.alloc(0) : Buffer.from(binding.data);
}

/**
 * HT initial response: authcid NUL HMAC(token, "Initiator" || cb-data), the HMAC keyed with the
 * token's bytes (the lab transcript, test/integration/prosody13.test.ts, shows Prosody 13 accepts it).
 */
export function htInitialResponse(
  username: string,
  creds: FastCredentials,
  binding: ChannelBinding | null,
): Uint8Array {
  const proof = createHmac('sha256', creds.token)
    .update(Buffer.concat([Buffer.from('Initiator'), cbData(creds.mechanism, binding)]))
    .digest();
  return Buffer.concat([Buffer.from(`${username}\u0000`, 'utf8'), proof]);
}

/** The server's proof in <additional-data/>: HMAC(token, "Responder" || cb-data), compared in constant time. */
export function htVerifyServer(
  additional: Uint8Array,
  creds: FastCredentials,
  binding: ChannelBinding | null,
): boolean {
  const expected = createHmac('sha256', creds.token)
    .update(Buffer.concat([Buffer.from('Responder'), cbData(creds.mechanism, binding)]))
    .digest();
  return additional.length === expected.length && timingSafeEqual(Buffer.from(additional), expected);
}

export type FastTokenResult = { ok: true; token: string; expiry: number } | { ok: false; reason: string } | null;

/**
 * §3.3: the <token expiry token/> in SASL2 <success/>; null when there is none, an error when it
 * cannot be used (no token text, or an expiry that is not a XEP-0082 DateTime).
 */
export function parseFastToken(success: Element): FastTokenResult {
  const el = success.getChildElements().find((c) => c.getName() === 'token' && c.getNS() === NS_FAST);
  if (!el) return null;
  const token = typeof el.attrs.token === 'string' ? el.attrs.token : '';
  if (token === '') return { ok: false, reason: 'the FAST token is empty' };
  const expiry = typeof el.attrs.expiry === 'string' ? parseDateTime(el.attrs.expiry) : null;
  if (expiry === null) return { ok: false, reason: 'the FAST token has no valid expiry date' };
  return { ok: true, token, expiry };
}
