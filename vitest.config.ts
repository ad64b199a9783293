// Two projects, told apart by file name (the unit/e2e split, CONTRIBUTING.md):
//   unit: test/**/*.test.ts except *.e2e.test.ts: in process only (in-process servers on loopback are
//         fine); a setup file makes any child process an error, so the split cannot rot.
//   e2e:  test/**/*.e2e.test.ts: real process trees (ztmint, OPA CLI, SoftHSM2 tools, ncc). Its global
//         setup builds build/ first (tsc, incremental), so a process test never runs stale code.
// `npm run test:unit` / `npm run test:e2e` pick one (`--project`); `npx vitest run <file>` runs the
// project the file belongs to, with its setup. The chaos suite has its own config (test/chaos/).
import { defineConfig } from 'vitest/config';
import { INSECURE_TEST_ENV } from './test/setup/insecure-test-env.js';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Child processes inherit these: the test stacks' insecure choices, allowed explicitly.
    env: { ...INSECURE_TEST_ENV },
    // Each e2e file starts its own process tree; two cores run two files at a time.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.e2e.test.ts'],
          setupFiles: ['test/setup/no-child-process.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          // Process trees on a machine that may be busy: generous, finite (test/helpers/child-process.ts
          // bounds every wait below these, so a hang fails with a message naming what hung).
          testTimeout: 180_000,
          hookTimeout: 300_000,
          globalSetup: ['test/setup/build-current.ts'],
        },
      },
    ],
  },
});
