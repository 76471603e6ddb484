/**
 * Light and dark: the window follows the system (prefers-color-scheme) unless the person chose one,
 * which is kept in localStorage under `THEME_KEY`. The resolved theme goes on
 * `document.documentElement.dataset.theme`, where style.css picks the colour variables (and
 * `color-scheme`, so form controls and scrollbars follow).
 */

export type ThemeChoice = 'light' | 'dark' | 'system';
export type Theme = 'light' | 'dark';

export const THEME_KEY = 'quiver-theme';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

/** The stored choice; 'system' when none was stored or the value is not one of ours. */
export function readThemeChoice(storage: Pick<Storage, 'getItem'>): ThemeChoice {
  const stored = storage.getItem(THEME_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

/** Keeps the choice; 'system' is stored as no entry, so a later default change applies. */
export function storeThemeChoice(storage: Pick<Storage, 'setItem' | 'removeItem'>, choice: ThemeChoice): void {
  if (choice === 'system') storage.removeItem(THEME_KEY);
  else storage.setItem(THEME_KEY, choice);
}

export function resolveTheme(choice: ThemeChoice, systemPrefersDark: boolean): Theme {
  return choice === 'system' ? (systemPrefersDark ? 'dark' : 'light') : choice;
}
