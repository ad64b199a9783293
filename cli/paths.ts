// Where the package's own files are, whether run from build/ (compiled) or from the sources.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the ztmint package root');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();
export const CLI_BIN = join(PACKAGE_ROOT, 'bin', 'ztmint.js');
export const DEFAULT_POLICY_WASM = join(PACKAGE_ROOT, 'policies', 'wasm', 'mint.wasm');
export const DEFAULT_POLICY_DATA = join(PACKAGE_ROOT, 'policies', 'data.json');
