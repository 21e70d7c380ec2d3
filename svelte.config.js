/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  vitePlugin: {
    // Runes mode for Doppel's own components; packages from node_modules decide for themselves.
    dynamicCompileOptions({ filename }) {
      if (!filename.includes('node_modules')) return { runes: true };
    },
  },
};
