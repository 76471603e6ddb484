/**
 * The label an account shows when the person chose none (issue 13: accounts told apart at a
 * glance; the colour must never be the only cue). Pure.
 *
 * Rule: the JID's domain when no other listed account has that domain; else the localpart; else
 * (another account on a shared domain has the same localpart: alice@a.test, bob@a.test,
 * alice@b.test, carol@b.test) the bare JID. `others` are the bare JIDs of the other listed
 * accounts (storage `listAccounts`: not removed); callers compare in stored (lower-case) form.
 * A JID without a localpart that shares its domain shows the whole JID.
 */

function parts(jid: string): { local: string; domain: string } {
  const at = jid.indexOf('@');
  return at < 0 ? { local: '', domain: jid } : { local: jid.slice(0, at), domain: jid.slice(at + 1) };
}

/** The default label of `jid` among `others` (which may contain `jid` itself: it is skipped). */
export function defaultLabel(jid: string, others: readonly string[]): string {
  const rest = others.filter((other) => other !== jid);
  const own = parts(jid);
  const domainCount = new Map<string, number>();
  for (const other of [jid, ...rest]) {
    const { domain } = parts(other);
    domainCount.set(domain, (domainCount.get(domain) ?? 0) + 1);
  }
  if (domainCount.get(own.domain) === 1) return own.domain;
  if (own.local === '') return jid;
  // Only accounts that show a localpart too can collide with ours.
  const clash = rest.some((other) => {
    const p = parts(other);
    return p.local === own.local && (domainCount.get(p.domain) ?? 0) > 1;
  });
  return clash ? jid : own.local;
}

/** The label the account shows: the person's, else the default among `others`. */
export function accountLabel(row: { jid: string; label: string | null }, others: readonly string[]): string {
  return row.label ?? defaultLabel(row.jid, others);
}
