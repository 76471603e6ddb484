/**
 * The keys the person pinned for one account (`pin.list`), kept live by `pin.changed`. Removing a
 * pin means the next connection that shows that key asks again (issue 3, "Pins").
 */
import type { Api } from '../../../app/contract/api.ts';
import type { PinView } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';

const byDomainThenAge = (a: PinView, b: PinView) => a.domain.localeCompare(b.domain) || a.createdAt - b.createdAt;

export const pinKey = (pin: Pick<PinView, 'domain' | 'spkiSha256'>) => `${pin.domain}\n${pin.spkiSha256}`;

export class PinState {
  readonly accountId: string;
  pins = $state<PinView[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** `pinKey` of the pin whose removal is in flight. */
  removing = $state<string | null>(null);
  #api: Api;

  constructor(api: Api, accountId: string) {
    this.#api = api;
    this.accountId = accountId;
  }

  async load(): Promise<void> {
    try {
      this.pins = [...(await this.#api.call('pin.list', { accountId: this.accountId }))].sort(byDomainThenAge);
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    } finally {
      this.loaded = true;
    }
  }

  /** For `pin.changed`: the host sends the account's whole list. */
  receive(accountId: string, pins: PinView[]): void {
    if (accountId !== this.accountId) return;
    this.pins = [...pins].sort(byDomainThenAge);
    this.loaded = true;
  }

  /** Resolves true once the host removed the pin; on failure `error` says why. */
  async remove(pin: PinView): Promise<boolean> {
    const key = pinKey(pin);
    this.removing = key;
    try {
      await this.#api.call('pin.remove', { accountId: this.accountId, domain: pin.domain, spkiSha256: pin.spkiSha256 });
      this.pins = this.pins.filter((p) => pinKey(p) !== key);
      this.error = null;
      return true;
    } catch (error) {
      this.error = errorText(error);
      return false;
    } finally {
      this.removing = null;
    }
  }
}
