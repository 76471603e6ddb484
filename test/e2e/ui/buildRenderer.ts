/** Builds the renderer into out/renderer with its own vite config; returns the output folder. */
import { build } from 'vite';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const rendererOut = `${repoRoot}/out/renderer`;

export async function buildRenderer(): Promise<string> {
  await build({ configFile: `${repoRoot}/renderer/vite.config.ts`, logLevel: 'warn' });
  return rendererOut;
}
