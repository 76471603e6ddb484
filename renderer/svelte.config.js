// Svelte 5 compiles TypeScript in <script lang="ts"> itself (erasable syntax only, as everywhere in
// Quiver); vitePreprocess is kept for <style> handling so electron-vite and vite share one setup.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default { preprocess: vitePreprocess() };
