/**
 * The person's theme choice and the theme in force. Create one per window with `ThemeState.start`
 * (before mounting, so the first paint has the right colours); it watches the system setting
 * while the choice is 'system'.
 */
import { readThemeChoice, resolveTheme, storeThemeChoice, type Theme, type ThemeChoice } from '../theme.ts';

export class ThemeState {
  choice = $state<ThemeChoice>('system');
  systemDark = $state(false);
  readonly theme: Theme = $derived(resolveTheme(this.choice, this.systemDark));
  #storage: Storage;
  #root: HTMLElement;

  private constructor(storage: Storage, root: HTMLElement) {
    this.#storage = storage;
    this.#root = root;
  }

  /** Reads the stored choice, applies it to `root` and follows the system's changes from then on. */
  static start(win: Window): ThemeState {
    const state = new ThemeState(win.localStorage, win.document.documentElement);
    const media = win.matchMedia('(prefers-color-scheme: dark)');
    state.choice = readThemeChoice(state.#storage);
    state.systemDark = media.matches;
    media.addEventListener('change', (event) => {
      state.systemDark = event.matches;
      state.#apply();
    });
    state.#apply();
    return state;
  }

  /** Applies and stores the person's choice. */
  choose(choice: ThemeChoice): void {
    this.choice = choice;
    storeThemeChoice(this.#storage, choice);
    this.#apply();
  }

  #apply(): void {
    this.#root.dataset.theme = resolveTheme(this.choice, this.systemDark);
  }
}

/** The window's theme, started when first imported (before the UI mounts: App imports it). */
export const themeState = ThemeState.start(window);
