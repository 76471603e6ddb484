/**
 * What the window may say of an account's status. While the link to the host is down the window
 * cannot know (issue 13: "shows accounts as unknown rather than online while disconnected").
 */
import type { AccountStatus, AccountView } from '../../../../app/contract/viewModels.ts';

export type ShownStatus = AccountStatus | 'unknown';

export function shownStatus(account: AccountView, linkOpen: boolean): ShownStatus {
  return linkOpen ? account.status : 'unknown';
}

/** The status in words; while the link is down, says so instead of the last known words. */
export function shownStatusText(account: AccountView, linkOpen: boolean): string {
  if (!linkOpen) return 'unknown: the window has lost its link to Quiver';
  return account.statusText || account.status;
}

/** Accounts in the person's order (by `order`, then by address for equal orders). */
export function inOrder(accounts: AccountView[]): AccountView[] {
  return accounts.toSorted((a, b) => a.order - b.order || a.jid.localeCompare(b.jid));
}
