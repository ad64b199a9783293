// The committed bundle dist/main/ must be exactly what scripts/build-action.sh builds
// from the current sources, and it must run as the runner runs it (`node dist/main/index.js`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const committed = join(root, 'dist', 'main');
const STALE = 'dist/ is stale: run npm run build:action';

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

describe('dist/main', () => {
  let tmp = '';
  let fresh = '';

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ztmint-dist-'));
    fresh = join(tmp, 'main');
    execFileSync('bash', [join(root, 'scripts', 'build-action.sh'), fresh], { cwd: root, stdio: 'pipe' });
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('equals a fresh build of action/ (scripts/build-action.sh)', () => {
    const want = listFiles(fresh);
    expect(want).toContain('index.js');
    let have: string[] = [];
    try {
      have = listFiles(committed);
    } catch {
      throw new Error(`${STALE} (dist/main/ is missing)`);
    }
    expect(have, STALE).toEqual(want);
    for (const file of want) {
      const same = readFileSync(join(committed, file)).equals(readFileSync(join(fresh, file)));
      if (!same) throw new Error(`${STALE} (dist/main/${file} differs from a fresh build)`);
    }
  });

  it('is an ES module that node runs as the runner does', () => {
    expect(JSON.parse(readFileSync(join(committed, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    // No inputs at all: the action must start, fail cleanly on the first input, and exit 1.
    const res = spawnSync(process.execPath, [join(committed, 'index.js')], {
      cwd: tmp,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('::error::input `coordinator-url` is required');
    expect(res.status).toBe(1);
  });
});
