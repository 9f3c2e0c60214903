// Builds the UI into dist/: the server sends dist/assets/* at /-/ui/assets/* and dist/index.html
// for every page route. Its CSP allows only same-origin scripts and styles, so nothing may be
// inlined: no module-preload polyfill (an inline script), no assets as data: URLs.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/-/ui/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
  },
});
