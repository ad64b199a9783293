// Resolves a service's configuration from four sources with precedence flag > environment >
// config file > default, then validates the merged result against the schema generated from
// the option table. Invalid configuration fails before anything starts, naming the key.
import { Ajv, type ErrorObject } from 'ajv';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { configSchema } from './schema.js';
import { envName, flagName, type OptionSpec, type ServiceOptionTable } from './option-table.js';

type ConfigSource = 'flag' | 'environment' | 'file' | 'default';

export interface ResolvedConfig {
  values: Record<string, unknown>;
  /** Where each set key's value came from. */
  sources: Record<string, ConfigSource>;
}

export interface ConfigInputs {
  /** Values given as flags (already parsed by commander: strings, or string arrays for lists). */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** Path of the config file (YAML or JSON), if any. */
  file?: string;
}

const validators = new WeakMap<ServiceOptionTable, ReturnType<Ajv['compile']>>();
function validatorFor(table: ServiceOptionTable) {
  let validate = validators.get(table);
  if (!validate) {
    validate = new Ajv({ allErrors: true, strict: true, useDefaults: false }).compile(configSchema(table));
    validators.set(table, validate);
  }
  return validate;
}

/**
 * Strings from a flag or an environment variable become the option's type where they read as
 * one; anything else is left as it is, for the schema to refuse with a clear message.
 */
function coerce(spec: OptionSpec, value: unknown): unknown {
  if (spec.type === 'integer' && typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  if (spec.type === 'boolean' && typeof value === 'string') {
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
  }
  if (spec.type === 'string-list' && typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return value;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${path} must hold a mapping of keys to values`);
  return doc as Record<string, unknown>;
}

function describe(table: ServiceOptionTable, key: string): string {
  const spec = table.options.find((o) => o.key === key);
  return spec ? `${key} (--${flagName(spec)}, ${envName(table.service, spec)})` : key;
}

function explain(table: ServiceOptionTable, resolved: ResolvedConfig, file: string | undefined, error: ErrorObject): string {
  const from = (key: string) => {
    const source = resolved.sources[key];
    return source === 'file' ? ` in ${file}` : source ? ` (from the ${source})` : '';
  };
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    return `unknown key "${key}"${from(key)}; known keys: ${table.options.map((o) => o.key).join(', ')}`;
  }
  if (error.keyword === 'required') {
    const key = String((error.params as { missingProperty: string }).missingProperty);
    return `${describe(table, key)} is required`;
  }
  if (error.keyword === 'dependencies') {
    const p = error.params as { property: string; missingProperty: string };
    return `${describe(table, p.missingProperty)} is required with ${p.property}`;
  }
  const [key = '', ...rest] = error.instancePath.split('/').slice(1);
  const where = rest.length ? `${describe(table, key)} item ${rest.join('/')}` : describe(table, key);
  const allowed = error.keyword === 'enum' ? `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
  return `${where}${from(key)} ${error.message ?? 'is invalid'}${allowed}`;
}

/** Merges flags, environment, file and defaults; throws ConfigError naming every bad key. */
export async function resolveConfig(table: ServiceOptionTable, inputs: ConfigInputs): Promise<ResolvedConfig> {
  const fileValues = inputs.file ? await readConfigFile(inputs.file) : {};
  const resolved: ResolvedConfig = { values: {}, sources: {} };
  const known = new Set(table.options.map((o) => o.key));
  // Unknown file keys stay in, so the schema's additionalProperties names them.
  for (const [key, value] of Object.entries(fileValues)) {
    if (!known.has(key)) {
      resolved.values[key] = value;
      resolved.sources[key] = 'file';
    }
  }
  for (const spec of table.options) {
    const flag = inputs.flags[spec.key];
    const env = inputs.env[envName(table.service, spec)];
    let value: unknown;
    let source: ConfigSource | undefined;
    if (flag !== undefined && !(Array.isArray(flag) && flag.length === 0)) [value, source] = [coerce(spec, flag), 'flag'];
    else if (env !== undefined && env !== '') [value, source] = [coerce(spec, env), 'environment'];
    else if (spec.key in fileValues) [value, source] = [fileValues[spec.key], 'file'];
    else if (spec.default !== undefined) [value, source] = [structuredClone(spec.default), 'default'];
    if (source) {
      resolved.values[spec.key] = value;
      resolved.sources[spec.key] = source;
    }
  }
  const validate = validatorFor(table);
  if (!validate(resolved.values)) {
    const problems = (validate.errors ?? []).map((e) => explain(table, resolved, inputs.file, e));
    throw new ConfigError(`invalid ${table.service} configuration: ${[...new Set(problems)].join('; ')}`);
  }
  return resolved;
}
