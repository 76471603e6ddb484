/**
 * The search view's state: what the person typed and what `search.run` found (conversations by
 * address or name, messages by text through SQLite FTS5). Typing runs the search 200 ms after the
 * last key so each keystroke does not cost a query; an answer to an older query is dropped.
 */
import type { Api } from '../../../app/contract/api.ts';
import type { SearchResult } from '../../../app/contract/viewModels.ts';
import { errorText } from './errorText.ts';

export const SEARCH_DEBOUNCE_MS = 200;
const SEARCH_LIMIT = 50;

export class SearchState {
  query = $state('');
  result = $state<SearchResult | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  #api: Api;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #asked = 0;

  constructor(api: Api) {
    this.#api = api;
  }

  /** Sets the query; the search runs once typing pauses. */
  set(query: string): void {
    this.query = query;
    this.cancel();
    this.#timer = setTimeout(() => void this.run(), SEARCH_DEBOUNCE_MS);
  }

  /** Runs the search for the current query now. */
  async run(): Promise<void> {
    this.cancel();
    const query = this.query.trim().slice(0, 200);
    const asked = ++this.#asked;
    if (!query) {
      this.result = null;
      return;
    }
    this.busy = true;
    try {
      const result = await this.#api.call('search.run', { query, limit: SEARCH_LIMIT });
      if (asked === this.#asked) {
        this.result = result;
        this.error = null;
      }
    } catch (error) {
      if (asked === this.#asked) this.error = errorText(error);
    } finally {
      if (asked === this.#asked) this.busy = false;
    }
  }

  /** Stops a search that has not started yet (the view closed). */
  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
