import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
  },
  {
    // The CLIs are ESM-only executables; their shebang is kept from the source.
    entry: { 'cli/lock-status': 'src/cli/lock-status.ts', 'cli/primacy': 'src/cli/primacy.ts' },
    format: ['esm'],
    target: 'node20',
  },
]);
