// Unit-test setup (vitest.config.ts, project `unit`): a file named *.test.ts must start no process
// (that is what makes `npm run test:unit` fast and runnable anywhere). Every way node:child_process
// starts one is replaced by a function that throws, so a unit test that starts a process fails with
// the rule instead of quietly slowing the loop down. Such a test belongs in a *.e2e.test.ts file.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const starters = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
const writable = childProcess as unknown as Record<string, unknown>;
for (const name of starters) {
  writable[name] = () => {
    throw new Error(`child_process.${name}: unit tests start no process; move this test to a *.e2e.test.ts file`);
  };
}
// Named ESM imports (`import { spawn } from 'node:child_process'`) see the replacements too.
syncBuiltinESMExports();
