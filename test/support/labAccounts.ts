/** Lab users as accounts of an assembled core. */
import type { QuiverCore } from '../../app/core.ts';
import type { LabState } from './lab.ts';
import { nextEvent } from './events.ts';

/** Adds the lab user `jid` as an account of `core` (the lab's resolver and CA); resolves with its id once it is online. */
export async function addOnlineLabAccount(core: QuiverCore, lab: LabState, jid: string): Promise<string> {
  const online = nextEvent(core, 'account.changed', (p) => p.account.jid === jid && p.account.status === 'online');
  const account = await core.handlers['account.add']({
    jid,
    password: lab.users[jid]!,
    resolver: lab.resolver,
    extraCaPem: lab.caPem,
  });
  await online;
  return account.id;
}
