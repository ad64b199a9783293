// signers/openapi.json is the one description of the signer API: the servers validate request
// bodies with its schemas (here, with its local $refs inlined, since Fastify compiles each body
// schema on its own), the wire types are generated from it (protocol/signer-api.ts), and every
// signer serves it at GET /openapi.json.
import type { FastifyInstance } from 'fastify';
import openapi from './openapi.json' with { type: 'json' };

type SchemaName = keyof typeof openapi.components.schemas;

const REF_PREFIX = '#/components/schemas/';

function inline(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inline);
  if (node === null || typeof node !== 'object') return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) return requestSchema(ref.slice(REF_PREFIX.length) as SchemaName);
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
}

/** A component schema of the document, self-contained, for Fastify's `schema.body`. */
export function requestSchema(name: SchemaName): Record<string, unknown> {
  const schema = openapi.components.schemas[name];
  if (!schema) throw new Error(`signers/openapi.json has no schema ${name}`);
  return inline(schema) as Record<string, unknown>;
}

/** GET /openapi.json: the document as in the repository. */
export function serveOpenApi(app: FastifyInstance): void {
  app.get('/openapi.json', async () => openapi);
}

export { openapi as signerOpenApi };
