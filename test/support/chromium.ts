/**
 * Debian's Chromium, headless, as every browser test and the bench launch it (no Electron binary
 * can be had here): no sandbox (root in a container), no GPU, and none of the background work
 * (updates, sync, first-run pages) that would add noise to what is measured.
 */
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
