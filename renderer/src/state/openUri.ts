/**
 * What the window does with an `xmpp:` link the shell handed it (`uri.opened`, RFC 5122 parsed
 * in main/xmppUriHandler.ts): open the chat with that address from the account that fits best,
 * or, for `?roster` and `?subscribe`, that account's "Add contact" dialog filled in.
 * "Best" is, in order: the account the link names (RFC 5122 §2.3, `xmpp://alice@work.example/…`)
 * when it is one of the person's; an enabled account on the same domain as the address (a
 * colleague's address opens from the work account); the first online account in the person's
 * order; the only account. With several accounts and none of them fitting, Quiver does not guess
 * which one to write from: it says so and leaves the choice to the person.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { AccountView, XmppUriTarget } from '../../../app/contract/viewModels.ts';
import type { ConversationsState } from './conversationsState.svelte.ts';
import { errorText } from './errorText.ts';

export type UriAccountChoice = { kind: 'open'; accountId: string } | { kind: 'ask' } | { kind: 'no-account' };

/** An account's bare JID in the case-mapped form `parseXmppUri` gives. */
function bareOf(jid: string): string {
  return (jid.split('/', 1)[0] ?? jid).normalize('NFC').toLowerCase();
}

function domainOf(jid: string): string {
  const bare = jid.split('/', 1)[0] ?? jid;
  return bare.slice(bare.indexOf('@') + 1).toLowerCase();
}

/**
 * The account a link to `jid` opens from; `suggested`: the account the link names, case-mapped
 * (see the file comment).
 */
export function chooseUriAccount(
  accounts: readonly AccountView[],
  jid: string,
  suggested: string | null = null,
): UriAccountChoice {
  if (accounts.length === 0) return { kind: 'no-account' };
  const named = suggested === null ? undefined : accounts.find((a) => bareOf(a.jid) === suggested);
  if (named) return { kind: 'open', accountId: named.id };
  const ordered = accounts.toSorted((a, b) => a.order - b.order);
  const domain = domainOf(jid);
  const enabled = ordered.filter((a) => a.enabled);
  const sameDomain = enabled.filter((a) => domainOf(a.jid) === domain);
  const pick =
    sameDomain.find((a) => a.status === 'online') ??
    sameDomain[0] ??
    ordered.find((a) => a.status === 'online') ??
    (ordered.length === 1 ? ordered[0] : undefined);
  return pick === undefined ? { kind: 'ask' } : { kind: 'open', accountId: pick.id };
}

/** What `openUriTarget` needs of the window's state (AppState). */
export interface UriOpener {
  readonly accounts: readonly AccountView[];
  readonly conversationList: Pick<ConversationsState, 'find' | 'upsert'>;
  openChat(accountId: string, peer: string): void;
  openAccount(accountId: string): void;
  readonly contacts: { offered: { accountId: string; jid: string; name: string | null } | null };
  /** The banner's sentence. */
  notice: string | null;
}

/**
 * Opens the chat `target` asks for. A `?message;body=` link puts the body in the composer as the
 * conversation's draft (unless it has one), never sends it: a link must not make Quiver say
 * something the person did not write. `?roster` and `?subscribe` open the account's panel with
 * "Add contact" filled in (address, and the link's name): XEP-0147's roster and subscribe actions
 * ask to add the contact, and the person confirms it; nothing is added by the link alone.
 */
export async function openUriTarget(api: Api, app: UriOpener, target: XmppUriTarget): Promise<void> {
  const choice = chooseUriAccount(app.accounts, target.jid, target.account);
  if (choice.kind === 'no-account') {
    app.notice = `A link asked to open a chat with ${target.jid}. Add an account first, then open the link again.`;
    return;
  }
  if (choice.kind === 'ask') {
    app.notice =
      `A link asked to open a chat with ${target.jid}, and none of your accounts is online or on that server. ` +
      'Start it with "New chat" (Ctrl+N) from the account you want to write from.';
    return;
  }
  const { accountId } = choice;
  const peer = target.jid;
  if (target.action === 'roster' || target.action === 'subscribe') {
    app.openAccount(accountId);
    app.contacts.offered = { accountId, jid: peer, name: target.name };
    return;
  }
  if (target.action === 'message' && target.body) {
    try {
      const listed =
        app.conversationList.find(accountId, peer) ?? (await api.call('conversation.start', { accountId, peer }));
      if (!listed.draft) {
        await api.call('conversation.setDraft', { accountId, peer, draft: target.body });
        app.conversationList.upsert({ ...listed, draft: target.body });
      } else {
        app.conversationList.upsert(listed);
      }
    } catch (error) {
      app.notice = errorText(error);
    }
  }
  app.openChat(accountId, peer);
}
