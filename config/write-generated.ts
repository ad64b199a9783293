// Writes the files generated from the option table: config/<service>.schema.json and the
// configuration reference in docs/operations.md (between its markers). Run after changing the
// table: `npm run build && node build/config/write-generated.js`; test/config.test.ts fails
// while they are out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../runtime/package-root.js';
import { configReference, replaceReference } from './reference.js';
import { configSchema } from './schema.js';
import { SERVICE_TABLES } from './option-table.js';

for (const table of SERVICE_TABLES) {
  await writeFile(join(PACKAGE_ROOT, 'config', `${table.service}.schema.json`), `${JSON.stringify(configSchema(table), null, 2)}\n`);
}
const docs = join(PACKAGE_ROOT, 'docs', 'operations.md');
await writeFile(docs, replaceReference(await readFile(docs, 'utf8'), configReference()));
console.log('wrote config/*.schema.json and the reference in docs/operations.md');
