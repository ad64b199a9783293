// The relying-party examples under examples/verify/ (Node jose, Go golang-jwt, Python PyJWT, Java
// Nimbus) against a live dev stack, through scripts/ci-verify-examples.sh: each accepts a token
// the stack mints and refuses a tampered one, an alg "none" copy, a wrong audience, a missing
// scope and an issuer alias whose discovery names another issuer. Uses build/ as it is (npm test builds first).
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const LANGS = ['node', 'go', 'python', 'java'] as const;
let output = '';
let exitCode: number | null = null;

beforeAll(async () => {
  const child = spawn('bash', ['scripts/ci-verify-examples.sh'], {
    cwd: ROOT,
    env: { ...process.env, ZTMINT_SKIP_BUILD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  exitCode = await new Promise<number | null>((resolve) => {
    // The script bounds each step itself; this is the outer bound.
    const timer = setTimeout(() => child.kill('SIGTERM'), 1_500_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  if (exitCode !== 0) output += `\n--- stderr ---\n${errors.slice(-4000)}`;
}, 1_600_000);

describe('examples/verify: every language verifies a genuine token and refuses forged ones', () => {
  it.each(LANGS)('%s', (lang) => {
    expect(output).toMatch(new RegExp(`^PASS ${lang}: `, 'm'));
  });

  it('the driver exits 0', () => {
    expect(exitCode, output).toBe(0);
  });
});
