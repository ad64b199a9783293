// The chaos suite runs on its own (`npm run test:chaos`), never as part of `npm test`: one file,
// one process tree, minutes of faults. Its files end in .chaos.ts so the main config skips them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { INSECURE_TEST_ENV } from '../setup/insecure-test-env.js';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Child processes inherit these: the test stacks' insecure choices, allowed explicitly.
    env: { ...INSECURE_TEST_ENV },
    fileParallelism: false,
    maxWorkers: 1,
    // The suite prints its report from a hook.
    printConsoleTrace: false,
  },
});
