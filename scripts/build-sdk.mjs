// Bundles the browser SDK into one ES module, served by the server at /sdk/switchboard.js.
import { build } from 'esbuild';

await build({
  entryPoints: ['packages/client/src/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  conditions: ['source'],
  outfile: 'packages/client/dist/switchboard.js',
  sourcemap: true,
  minify: false,
  logLevel: 'warning',
});
