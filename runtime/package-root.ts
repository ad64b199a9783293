// The package's root folder, whether code runs compiled (build/) or from the TypeScript sources.
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
