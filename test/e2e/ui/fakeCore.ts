/**
 * A `QuiverCore` for host tests: real `Handlers` over an in-memory account list, an `emit` to push
 * events, and a record of the calls that reached a handler (so a test can prove a refused call
 * never did).
 */
import type { AccountView, EventEnvelope, Handlers, MessageView } from '../../../app/contract/index.ts';
import type { QuiverCore } from '../../../app/core.ts';
import { account as accountView } from '../../e2e/ui/fixtures.ts';

export interface FakeCore extends QuiverCore {
  emit(event: EventEnvelope): void;
  readonly calls: Array<{ name: string; args: unknown }>;
  readonly closed: boolean;
  listenerCount(): number;
}

export function account(jid: string, id = 'a1'): AccountView {
  return accountView(id, jid);
}

export function createFakeCore(): FakeCore {
  const listeners = new Set<(event: EventEnvelope) => void>();
  const calls: Array<{ name: string; args: unknown }> = [];
  const accounts: AccountView[] = [];
  let closed = false;
  const record = (name: string, args: unknown) => calls.push({ name, args });
  const handlers: Handlers = {
    'account.list': (args) => (record('account.list', args), accounts),
    'account.add': (args) => {
      record('account.add', args);
      const view = account(args.jid, `a${accounts.length + 1}`);
      accounts.push(view);
      return view;
    },
    'account.update': (args) => (record('account.update', args), account('x@example.org', args.accountId)),
    'account.remove': (args) => (record('account.remove', args), null),
    'account.setEnabled': (args) => {
      record('account.setEnabled', args);
      throw Object.assign(new Error('No account with that id; reload the account list.'), { code: 'not-found' });
    },
    'roster.list': (args) => (record('roster.list', args), []),
    'chat.list': (args) => (record('chat.list', args), []),
    'chat.history': (args) => (record('chat.history', args), []),
    'chat.send': (args): MessageView => {
      record('chat.send', args);
      return {
        id: 'm1',
        accountId: args.accountId,
        peer: args.to,
        direction: 'out',
        body: args.body,
        stanzaId: 's1',
        at: 0,
        state: 'queued',
      };
    },
    'connection.list': (args) => (record('connection.list', args), []),
    'certificate.pending': (args) => (record('certificate.pending', args), []),
    'certificate.decide': (args) => (record('certificate.decide', args), null),
    'pin.list': (args) => (record('pin.list', args), []),
    'pin.remove': (args) => (record('pin.remove', args), null),
  };
  return {
    handlers,
    calls,
    get closed() {
      return closed;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      for (const listener of listeners) listener(event);
    },
    listenerCount: () => listeners.size,
    async close() {
      closed = true;
    },
  };
}
