/** How the UI specs reach an account's security details: from its row (folded or not) or its panel. */
import type { Page } from 'playwright-core';
import { row } from './harness.ts';

/** Opens the security view of the account `jid` and waits for it. */
export async function openSecurity(page: Page, jid: string): Promise<void> {
  const accountRow = row(page, jid);
  await accountRow.waitFor();
  const open = accountRow.getByTestId('account-open');
  const toggle = accountRow.getByTestId('account-toggle');
  if ((await open.count()) > 0) await open.click();
  else if ((await toggle.count()) > 0) await toggle.click();
  else await accountRow.click();
  await page.getByTestId('account-security').first().click();
  await page.getByTestId('security-view').waitFor();
}
