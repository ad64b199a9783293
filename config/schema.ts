// The JSON Schema of a service's config file, generated from the option table. The committed
// files config/<service>.schema.json are this output (test/config.test.ts keeps them equal;
// `node build/config/write-generated.js` rewrites them).
import { envName, flagName, type OptionSpec, type ServiceOptionTable } from './option-table.js';

function valueSchema(spec: OptionSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'string':
      return { type: 'string', ...spec.schema };
    case 'integer':
      return { type: 'integer', ...spec.schema };
    case 'boolean':
      return { type: 'boolean' };
    case 'string-list':
      return { type: 'array', items: { type: 'string', ...spec.schema } };
  }
}

export function configSchema(table: ServiceOptionTable): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const spec of table.options) {
    properties[spec.key] = {
      description: `${spec.description} (flag --${flagName(spec)}, environment ${envName(table.service, spec)})`,
      ...valueSchema(spec),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://ztmint.dev/schemas/${table.service}.schema.json`,
    title: `${table.title} configuration`,
    description: 'Every key is also a flag and an environment variable; precedence: flag > environment > file > default.',
    type: 'object',
    additionalProperties: false,
    required: table.options.filter((o) => o.required).map((o) => o.key),
    properties,
    ...(table.together ? { dependencies: table.together } : {}),
  };
}
