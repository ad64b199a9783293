// Where the package's own files are.
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../runtime/package-root.js';

export { PACKAGE_ROOT };
export const CLI_BIN = join(PACKAGE_ROOT, 'bin', 'ztmint.js');
export const DEFAULT_POLICY_WASM = join(PACKAGE_ROOT, 'policies', 'wasm', 'mint.wasm');
export const DEFAULT_POLICY_DATA = join(PACKAGE_ROOT, 'policies', 'data.json');
