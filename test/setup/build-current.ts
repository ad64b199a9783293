// e2e global setup (vitest.config.ts, project `e2e`): process tests start `bin/ztmint.js`, which runs
// the compiled build/, so build/ must be what the sources compile to now. This runs the project's
// build (tsc, incremental: seconds when nothing changed) before any e2e file starts, and stops the run
// with tsc's own errors if the sources do not compile — never testing yesterday's build/.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 300_000;

export default function setup(): void {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const started = Date.now();
  const res = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : `exit ${res.status ?? res.signal}`;
    throw new Error(`e2e tests need a current build/, but \`npm run build\` failed (${why}):\n${res.stdout}${res.stderr}`);
  }
  console.log(`[e2e] build/ is current (tsc -p ., ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
