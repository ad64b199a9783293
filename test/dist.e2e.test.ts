// The committed bundles dist/main/ and dist/post/ must be exactly what scripts/build-action.sh
// builds from the current sources, action.yml must point at them, and each must run as the
// runner runs it (`node dist/<entry>/index.js`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const STALE = 'dist/ is stale: run npm run build:action';
const ENTRIES = ['main', 'post'] as const;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

describe('dist/', () => {
  let tmp = '';

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ztmint-dist-'));
    execFileSync('bash', [join(root, 'scripts', 'build-action.sh'), join(tmp, 'dist')], { cwd: root, stdio: 'pipe' });
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each(ENTRIES)('dist/%s equals a fresh build of action/ (scripts/build-action.sh)', (entry) => {
    const fresh = join(tmp, 'dist', entry);
    const committed = join(root, 'dist', entry);
    const want = listFiles(fresh);
    expect(want).toEqual(['index.js', 'licenses.txt', 'package.json']);
    let have: string[];
    try {
      have = listFiles(committed);
    } catch {
      throw new Error(`${STALE} (dist/${entry}/ is missing)`);
    }
    expect(have, STALE).toEqual(want);
    for (const file of want) {
      const same = readFileSync(join(committed, file)).equals(readFileSync(join(fresh, file)));
      if (!same) throw new Error(`${STALE} (dist/${entry}/${file} differs from a fresh build)`);
    }
  });

  it('builds the same bytes twice (deterministic)', () => {
    const again = join(tmp, 'again');
    execFileSync('bash', [join(root, 'scripts', 'build-action.sh'), again], { cwd: root, stdio: 'pipe' });
    for (const entry of ENTRIES) {
      for (const file of listFiles(join(tmp, 'dist', entry))) {
        expect(readFileSync(join(again, entry, file)).equals(readFileSync(join(tmp, 'dist', entry, file))), `${entry}/${file}`).toBe(true);
      }
    }
  }, 180_000);

  it('action.yml runs dist/main/index.js and dist/post/index.js on node24, post always', () => {
    const yml = readFileSync(join(root, 'action.yml'), 'utf8');
    const runs = yml.slice(yml.indexOf('\nruns:'));
    expect(runs).toMatch(/\n {2}using: node24\n/);
    expect(runs).toMatch(/\n {2}main: dist\/main\/index\.js\n/);
    expect(runs).toMatch(/\n {2}post: dist\/post\/index\.js\n/);
    expect(runs).toMatch(/\n {2}post-if: always\(\)\n/);
  });

  it.each(ENTRIES)('dist/%s holds the error base class and no server code', (entry) => {
    const bundle = readFileSync(join(root, 'dist', entry, 'index.js'), 'utf8');
    // errors/ztmint-error.ts is bundled; protocol/problem.ts is imported as a type only.
    expect(bundle).toContain('class ZtmintError extends Error');
    for (const server of ['fastify', 'PROBLEM_STATUS', 'class ProblemError', 'pino', 'prom-client', 'opa-wasm', 'sodium-native']) {
      expect(bundle, server).not.toContain(server);
    }
  });

  it.each(ENTRIES)('dist/%s is an ES module that node runs as the runner does', (entry) => {
    const committed = join(root, 'dist', entry);
    expect(JSON.parse(readFileSync(join(committed, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    // No inputs, no state: main must fail cleanly on the first input; post has nothing to do.
    const res = spawnSync(process.execPath, [join(committed, 'index.js')], {
      cwd: tmp,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    if (entry === 'main') {
      expect(res.stdout).toContain('::error::input `coordinator-url` is required');
      expect(res.status).toBe(1);
    } else {
      expect(res.stdout).toContain('No token was minted in this job; nothing to revoke.');
      expect(res.status).toBe(0);
    }
  });
});
