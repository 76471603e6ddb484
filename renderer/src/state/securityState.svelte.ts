/**
 * The connection security records of one account (`connection.list`), newest first, kept live by
 * `connection.recorded` (a record is sent again when its connection ends, with the same id), and
 * the keys pinned for that account (`pins`).
 */
import type { Api } from '../../../app/contract/api.ts';
import type { SecurityRecord } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';
import { PinState } from './pinState.svelte.ts';

export class SecurityState {
  readonly accountId: string;
  records = $state<SecurityRecord[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  readonly pins: PinState;
  #api: Api;

  constructor(api: Api, accountId: string) {
    this.#api = api;
    this.accountId = accountId;
    this.pins = new PinState(api, accountId);
  }

  /** Loads the records and the pins. */
  async load(): Promise<void> {
    this.loading = true;
    const pins = this.pins.load();
    try {
      const records = await this.#api.call('connection.list', { accountId: this.accountId, limit: 50 });
      this.records = [...records].sort((a, b) => b.startedAt - a.startedAt);
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    } finally {
      await pins;
      this.loading = false;
    }
  }

  receive(record: SecurityRecord): void {
    if (record.accountId !== this.accountId) return;
    const others = this.records.filter((r) => r.id !== record.id);
    this.records = [record, ...others].sort((a, b) => b.startedAt - a.startedAt);
  }
}
