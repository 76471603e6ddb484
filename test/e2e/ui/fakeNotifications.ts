/**
 * The page's Notification API replaced by a recorder (set before the page's scripts run): what the
 * window would show, and the instances, so a test can click one.
 */
import type { Page } from 'playwright-core';

/** Records notifications instead of showing them; permission as given. */
export function fakeNotifications(page: Page, permission: 'granted' | 'default') {
  return page.addInitScript((permission) => {
    const shown: { title: string; body: string; tag: string }[] = [];
    const instances: { onclick: (() => void) | null }[] = [];
    (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
    (window as unknown as { notificationInstances: typeof instances }).notificationInstances = instances;
    class FakeNotification {
      static permission = permission;
      static requestPermission = () => Promise.resolve(FakeNotification.permission);
      onclick: (() => void) | null = null;
      constructor(title: string, options: { body: string; tag: string }) {
        shown.push({ title, body: options.body, tag: options.tag });
        instances.push(this);
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: FakeNotification, configurable: true });
  }, permission);
}

export const shownNotifications = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { shownNotifications: { title: string; body: string; tag: string }[] }).shownNotifications,
  );
