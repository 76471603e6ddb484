/**
 * The login's SASL mechanism and channel binding, each with one line of what it means for the
 * person (issue 13: "SASL mechanism and channel binding, each with a one-line explanation").
 */

/** One line about a SASL mechanism (RFC 4422), by family. */
export function saslExplanation(mechanism: string | null): string {
  if (mechanism === null) return 'No login recorded for this connection.';
  const m = mechanism.toUpperCase();
  if (m.startsWith('SCRAM-'))
    return m.endsWith('-PLUS')
      ? 'Your password was never sent: both sides proved they know it, and the proof is tied to this TLS connection.'
      : 'Your password was never sent: both sides proved they know it.';
  if (m.startsWith('HT-'))
    return 'Signed in with a token this device holds (FAST), not your password; the token is tied to this device.';
  if (m === 'PLAIN') return 'Your password was sent to the server inside the encrypted connection; the server sees it.';
  if (m === 'EXTERNAL') return 'Signed in with a certificate held by this device, not a password.';
  if (m === 'ANONYMOUS') return 'Signed in without an account: the server gave a temporary address.';
  return 'A login method Quiver does not describe yet.';
}

/** One line about the channel binding type (RFC 5929, RFC 9266), or its absence. */
export function channelBindingExplanation(binding: string | null): string {
  switch (binding) {
    case null:
    case '':
    case 'none':
      return 'None: the login is not tied to this TLS connection, so it would not notice a man-in-the-middle holding a trusted certificate.';
    case 'tls-exporter':
      return 'tls-exporter (RFC 9266): the login is tied to this TLS 1.3 connection; a man-in-the-middle could not reuse it.';
    case 'tls-server-end-point':
      return "tls-server-end-point (RFC 5929): the login is tied to the server's certificate; a man-in-the-middle with another certificate would fail.";
    case 'tls-unique':
      return 'tls-unique (RFC 5929): the login is tied to this TLS 1.2 connection.';
    default:
      return `${binding}: the login is tied to this connection.`;
  }
}

/** "SCRAM-SHA-256-PLUS with channel binding" / "PLAIN without channel binding". */
export function saslSummary(mechanism: string | null, binding: string | null): string | null {
  if (mechanism === null) return null;
  const bound = binding !== null && binding !== '' && binding !== 'none';
  return `${mechanism} ${bound ? 'with' : 'without'} channel binding`;
}
