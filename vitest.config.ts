import fs from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The unit tier (`npm run test:unit`): tests that need no build and no browser and take seconds each (real SQLite,
 * sharp and the model, but small inputs). Everything else under tests/ but tests/e2e is the integration tier (the
 * built CLI, whole libraries, killed processes, hung drives); tests/e2e drives the built renderer in Chromium.
 */
const UNIT = [
  'tests/core/descriptor-match.test.ts',
  'tests/core/duplicates-grouping.test.ts',
  'tests/core/eval.test.ts',
  'tests/core/exact-vectors.test.ts',
  'tests/core/folder-policy.test.ts',
  'tests/core/follow-symlinks.test.ts',
  'tests/core/kernels.test.ts',
  'tests/core/model.test.ts',
  'tests/core/nested-folders.test.ts',
  'tests/core/paths.test.ts',
  'tests/core/private-files.test.ts',
  'tests/core/read-budget.test.ts',
  'tests/core/read-file.test.ts',
  'tests/core/retrieval-steps.test.ts',
  'tests/core/scan-formats.test.ts',
  'tests/core/scan.test.ts',
  'tests/core/service.test.ts',
  'tests/core/store-duplicates.test.ts',
  'tests/core/store-nested-folders.test.ts',
  'tests/core/store-writers.test.ts',
  'tests/core/store.test.ts',
  'tests/core/trash.test.ts',
  'tests/core/unanswered-reads.test.ts',
  'tests/core/undo-recovery.test.ts',
  'tests/core/vector-index.test.ts',
  'tests/core/verify-burst.test.ts',
  'tests/core/verify-placement.test.ts',
  'tests/core/verify-rules.test.ts',
  'tests/core/view-predictor.test.ts',
  'tests/integrate-platforms.test.ts',
  'tests/lint-layers.test.ts',
  'tests/main-find-similar.test.ts',
  'tests/main-integrate.test.ts',
  'tests/main-ipc.test.ts',
  'tests/main-protocol.test.ts',
  'tests/main-security.test.ts',
  'tests/main-trasher.test.ts',
  'tests/preload.test.ts',
  'tests/renderer-justified.test.ts',
  'tests/renderer-review.test.ts',
  'tests/similarity.test.ts',
  'tests/scan-progress.test.ts',
];
const E2E = ['tests/e2e/**/*.test.ts'];

// A renamed or removed test must not silently leave the unit tier.
for (const file of UNIT) if (!fs.existsSync(file)) throw new Error(`vitest.config.ts: ${file} (unit tier) is gone`);

export default defineConfig({
  test: {
    // Real photos, the real model and real SQLite files: generous limits, no timed assertions.
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // tfjs' wasm backend and sharp are process-global; separate processes keep test files independent.
    pool: 'forks',
    // Two cores: one file at a time keeps heavy tests (indexing, training) from starving each other.
    // `npm run test:unit` runs its small files two at a time (--file-parallelism --max-workers 2).
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: [...UNIT, ...E2E] } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});
