/**
 * IP address literals, recognised without Node's net module so that pure code (the TLS handshake,
 * the identity checks, JID rules the renderer runs too) can tell a host name from an address. Same answers as Node's `isIP`,
 * `isIPv4` and `isIPv6` (a unit test compares them): IPv4 is dotted-quad decimal without leading
 * zeros; IPv6 is RFC 4291 §2.2 text, with an embedded dotted quad and a zone index allowed.
 */

const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

export function isIPv6(text: string): boolean {
  const percent = text.indexOf('%');
  // RFC 6874: a zone index names an interface; it must not be empty.
  if (percent !== -1 && percent === text.length - 1) return false;
  const address = percent === -1 ? text : text.slice(0, percent);
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | null => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  // RFC 4291 §2.2 (3): the low-order 32 bits may be a dotted quad, as the last group of the text.
  const lastOfText = halves.length === 2 && tail.length === 0 ? -1 : all.length - 1;
  let hextets = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i]!;
    if (HEXTET.test(group)) hextets += 1;
    else if (i === lastOfText && isIPv4(group)) hextets += 2;
    else return false;
  }
  return halves.length === 2 ? hextets <= 7 : hextets === 8;
}

/** 4 for an IPv4 literal, 6 for an IPv6 literal, 0 for anything else (as Node's `isIP`). */
export function isIP(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return 0;
}

/** `host:port` as written in a URL or a log, with an IPv6 literal in brackets (RFC 3986 §3.2.2). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
