// The chaos suite runs on its own (`npm run test:chaos`), never as part of `npm test`: one file,
// one process tree, minutes of faults. Its files end in .chaos.ts so the main config skips them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    maxWorkers: 1,
    // The suite prints its report from a hook.
    printConsoleTrace: false,
  },
});
