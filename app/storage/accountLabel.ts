/**
 * The label an account shows when the person chose none (issue 13: accounts told apart at a
 * glance; the colour must never be the only cue). Pure.
 *
 * Rule: the JID's domain when no other listed account has that domain; else the bare JID. (The
 * local part alone was tried: in a list where accounts write to each other, the account 'bob' read
 * like the contact bob@…, so a row "alice · bob" was ambiguous.) `others` are the bare JIDs of the
 * other listed accounts (storage `listAccounts`: not removed); callers compare in stored
 * (lower-case) form.
 */

function parts(jid: string): { domain: string } {
  return { domain: jid.slice(jid.indexOf('@') + 1) };
}

/** The default label of `jid` among `others` (which may contain `jid` itself: it is skipped). */
export function defaultLabel(jid: string, others: readonly string[]): string {
  const { domain } = parts(jid);
  return others.some((other) => other !== jid && parts(other).domain === domain) ? jid : domain;
}

/** The label the account shows: the person's, else the default among `others`. */
export function accountLabel(row: { jid: string; label: string | null }, others: readonly string[]): string {
  return row.label ?? defaultLabel(row.jid, others);
}
