/**
 * The app badge: the window title "(N) Quiver" (renderer/src/components/App.svelte) becomes the
 * dock / launcher count through `app.setBadgeCount` (macOS, and Linux under Unity-compatible
 * launchers; elsewhere Electron ignores it and returns false). Windows has no count badge, and
 * the taskbar shows the title, which already carries the count.
 */

/** What we need of `app`. */
export interface BadgeApp {
  setBadgeCount(count?: number): boolean;
}

/** Largest count shown: beyond it the badge would say nothing more useful. */
export const MAX_BADGE_COUNT = 9999;

/** The unread count a window title announces: N for "(N) Quiver", 0 for anything else. */
export function badgeCountFromTitle(title: string): number {
  const match = /^\((\d{1,6})\) Quiver$/.exec(title);
  if (!match) return 0;
  return Math.min(Number(match[1]), MAX_BADGE_COUNT);
}

/**
 * Returns the `page-title-updated` listener that keeps the badge in step with the title. The
 * title is the page's, so it is read, never trusted beyond a bounded number.
 */
export function badgeFollowsTitle(app: BadgeApp): (event: unknown, title: string) => void {
  let shown = -1;
  return (_event, title) => {
    const count = badgeCountFromTitle(title);
    if (count === shown) return;
    shown = count;
    app.setBadgeCount(count);
  };
}
