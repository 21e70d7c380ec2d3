import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real photos, the real model and real SQLite files: generous limits, no timed assertions.
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // tfjs' wasm backend and sharp are process-global; separate processes keep test files independent.
    pool: 'forks',
    // Two cores: one file at a time keeps heavy tests (indexing, training) from starving each other.
    fileParallelism: false,
  },
});
