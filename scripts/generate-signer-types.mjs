// Generates protocol/signer-api.ts, the TypeScript types of the signer API, from
// signers/openapi.json (the one schema source) with openapi-typescript. Run after editing the
// document: `node scripts/generate-signer-types.mjs`. test/signer-openapi.test.ts fails when the
// committed file is not what this produces.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const SOURCE = new URL('../signers/openapi.json', import.meta.url);
export const TARGET = new URL('../protocol/signer-api.ts', import.meta.url);

const HEADER = `// GENERATED from signers/openapi.json by scripts/generate-signer-types.mjs (openapi-typescript).
// Do not edit: change the OpenAPI document and run \`node scripts/generate-signer-types.mjs\`.
// protocol/wire.ts names the types the code uses.
`;

/** The generated file's text for the current document. */
export async function generateSignerTypes() {
  const doc = JSON.parse(await readFile(SOURCE, 'utf8'));
  const ast = await openapiTS(doc, { exportType: true });
  return HEADER + '\n' + astToString(ast);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(TARGET, await generateSignerTypes());
  console.log(`wrote ${fileURLToPath(TARGET)}`);
}
