// The option table drives the config file schema, the flags and the environment variables
// (config/option-table.ts): these tests keep the three in step, check the precedence
// flag > environment > file > default, and that bad configuration is refused naming the key.
import { Command } from 'commander';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addServiceOptions, flagValues } from '../config/commander.js';
import { ConfigError } from '../config/errors.js';
import { resolveConfig } from '../config/load.js';
import { COORDINATOR_OPTIONS, SERVICE_TABLES, SIGNER_OPTIONS, envName, flagName, type ServiceOptionTable } from '../config/option-table.js';
import { configReference, REFERENCE_BEGIN, REFERENCE_END } from '../config/reference.js';
import { configSchema } from '../config/schema.js';
import { coordinatorOptionsFrom, rateRule, signerOptionsFrom } from '../cli/service-config.js';
import { DEFAULT_RATE_LIMITS } from '../coordinator/rate-limit.js';

const ROOT = new URL('..', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztmint-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function parsed(table: ServiceOptionTable, argv: string[]): Command {
  const command = addServiceOptions(new Command(table.service).exitOverride(), table).action(() => {});
  command.parse(argv, { from: 'user' });
  return command;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe('invalid_config');
  return err as ConfigError;
}

const COORDINATOR_MINIMAL = ['--state', '/s', '--oidc-audience', 'https://c', '--signer', 'signer-1=https://a:1'];

describe('one option table for schema, flags and environment', () => {
  for (const table of SERVICE_TABLES) {
    it(`${table.service}: every schema key has a flag and an environment variable, and nothing else exists`, () => {
      const schema = configSchema(table) as { properties: Record<string, unknown> };
      const command = addServiceOptions(new Command(table.service), table);
      const flags = new Set(command.options.map((o) => o.long));
      for (const key of Object.keys(schema.properties)) {
        const spec = table.options.find((o) => o.key === key)!;
        expect(flags.has(`--${flagName(spec)}`), `flag for ${key}`).toBe(true);
        expect(envName(table.service, spec)).toMatch(new RegExp(`^ZTMINT_${table.service.toUpperCase()}_[A-Z0-9_]+$`));
        expect(command.helpInformation()).toContain(envName(table.service, spec));
      }
      // Exactly the table's flags plus --config: no flag without a key.
      expect([...flags].sort()).toEqual(['--config', ...table.options.map((o) => `--${flagName(o)}`)].sort());
      expect(new Set(table.options.map((o) => envName(table.service, o))).size).toBe(table.options.length);
    });

    it(`${table.service}: the committed config/${table.service}.schema.json is the generated schema`, async () => {
      const committed = JSON.parse(await readFile(join(ROOT, 'config', `${table.service}.schema.json`), 'utf8'));
      expect(committed, 'run `npm run build && node build/config/write-generated.js`').toEqual(configSchema(table));
    });
  }

  it('docs/operations.md holds the generated configuration reference', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const between = doc.slice(doc.indexOf(REFERENCE_BEGIN) + REFERENCE_BEGIN.length, doc.indexOf(REFERENCE_END)).trim();
    expect(between, 'run `npm run build && node build/config/write-generated.js`').toBe(configReference().trim());
  });

  it("the rate-limit defaults in the table are the coordinator's built-in ones", () => {
    const spec = (key: string) => COORDINATOR_OPTIONS.options.find((o) => o.key === key)!.default as string;
    expect(rateRule(spec('rateRepository'))).toEqual(DEFAULT_RATE_LIMITS.repository);
    expect(rateRule(spec('rateSub'))).toEqual(DEFAULT_RATE_LIMITS.sub);
  });
});

describe('precedence: flag > environment > file > default', () => {
  it('each source wins over the ones below it, key by key', async () => {
    const config = await file('prec.yaml', 'state: /from-file\noidcAudience: https://file\nsigners: ["s1=https://file:1"]\nhost: 10.0.0.1\nport: 1111\npublicUrl: https://file.example\n');
    const command = parsed(COORDINATOR_OPTIONS, ['--port', '3333', '--config', config]);
    const { values, sources } = await resolveConfig(COORDINATOR_OPTIONS, {
      flags: flagValues(command, COORDINATOR_OPTIONS),
      env: { ZTMINT_COORDINATOR_PORT: '2222', ZTMINT_COORDINATOR_HOST: '10.0.0.2' },
      file: config,
    });
    expect(values).toMatchObject({ port: 3333, host: '10.0.0.2', publicUrl: 'https://file.example', state: '/from-file', rateSub: '120/min,30' });
    expect(sources).toMatchObject({ port: 'flag', host: 'environment', publicUrl: 'file', rateSub: 'default' });
  });

  it('lists: repeated flags, comma-separated environment, YAML arrays', async () => {
    const fromFlags = await resolveConfig(COORDINATOR_OPTIONS, {
      flags: flagValues(parsed(COORDINATOR_OPTIONS, [...COORDINATOR_MINIMAL, '--signer', 'signer-2=https://b:2']), COORDINATOR_OPTIONS),
      env: { ZTMINT_COORDINATOR_SIGNERS: 'x=https://env:1' },
    });
    expect(fromFlags.values.signers).toEqual(['signer-1=https://a:1', 'signer-2=https://b:2']);
    const fromEnv = await resolveConfig(SIGNER_OPTIONS, {
      flags: {},
      env: {
        ZTMINT_SIGNER_STATE: '/s',
        ZTMINT_SIGNER_INDEX: '2',
        ZTMINT_SIGNER_TOKEN_ISSUER: 'https://c',
        ZTMINT_SIGNER_OIDC_AUDIENCE: 'https://c',
        ZTMINT_SIGNER_OIDC_ISSUERS: 'https://a.example, https://b.example',
      },
    });
    expect(fromEnv.values).toMatchObject({ index: 2, oidcIssuers: ['https://a.example', 'https://b.example'], allowClients: ['coordinator'] });
  });

  it('a JSON file is read as well as YAML, and yields the service options', async () => {
    const config = await file('signer.json', JSON.stringify({ state: 'rel/state', index: 1, tokenIssuer: 'https://c', oidcAudience: 'https://c', mtlsCert: '/m/tls.crt' }));
    const { values } = await resolveConfig(SIGNER_OPTIONS, { flags: {}, env: {}, file: config });
    const opts = signerOptionsFrom(values);
    expect(opts.state).toBe(join(process.cwd(), 'rel/state'));
    expect(opts.mtls).toEqual({ cert: '/m/tls.crt' });
    expect(opts.oidcIssuers).toEqual([{ issuer: 'https://token.actions.githubusercontent.com' }]);
  });

  it('coordinator options: signers, rate rules and TLS paths', async () => {
    const command = parsed(COORDINATOR_OPTIONS, [...COORDINATOR_MINIMAL, '--tls-cert', '/t/c.pem', '--tls-key', '/t/k.pem', '--rate-sub', '60/min,5']);
    const { values } = await resolveConfig(COORDINATOR_OPTIONS, { flags: flagValues(command, COORDINATOR_OPTIONS), env: {} });
    const opts = coordinatorOptionsFrom(values);
    expect(opts.signers).toEqual([{ name: 'signer-1', url: 'https://a:1' }]);
    expect(opts.tls).toEqual({ cert: '/t/c.pem', key: '/t/k.pem' });
    expect(opts.rateLimits).toEqual({ repository: { perMinute: 600, burst: 120 }, sub: { perMinute: 60, burst: 5 } });
  });
});

describe('invalid configuration fails at start, naming the key', () => {
  it('an unknown key in the file is refused with its name and the file', async () => {
    const config = await file('unknown.yaml', 'state: /s\noidcAudience: https://c\nsigners: ["a=https://a:1"]\npublic_url: https://typo\n');
    const err = await refusal(resolveConfig(COORDINATOR_OPTIONS, { flags: {}, env: {}, file: config }));
    expect(err.message).toContain('unknown key "public_url"');
    expect(err.message).toContain(config);
  });

  it('a wrong type names the key, its flag, its variable and the source', async () => {
    const err = await refusal(
      resolveConfig(COORDINATOR_OPTIONS, {
        flags: flagValues(parsed(COORDINATOR_OPTIONS, COORDINATOR_MINIMAL), COORDINATOR_OPTIONS),
        env: { ZTMINT_COORDINATOR_PORT: 'eighty' },
      }),
    );
    expect(err.message).toMatch(/port \(--port, ZTMINT_COORDINATOR_PORT\) \(from the environment\) must be integer/);
  });

  it('missing required keys, bad patterns, enums and pairs are each named', async () => {
    const config = await file('bad.yaml', 'snpSource: tpm\npolicyPin: abc\nport: 70000\n');
    const err = await refusal(resolveConfig(SIGNER_OPTIONS, { flags: {}, env: {}, file: config }));
    for (const part of [
      'state (--state, ZTMINT_SIGNER_STATE) is required',
      'index (--index, ZTMINT_SIGNER_INDEX) is required',
      'snpSource',
      'configfs, file',
      'policyPin',
      'port (--port, ZTMINT_SIGNER_PORT)',
    ]) {
      expect(err.message).toContain(part);
    }
    const pair = await refusal(
      resolveConfig(COORDINATOR_OPTIONS, {
        flags: flagValues(parsed(COORDINATOR_OPTIONS, [...COORDINATOR_MINIMAL, '--tls-cert', '/c.pem']), COORDINATOR_OPTIONS),
        env: {},
      }),
    );
    expect(pair.message).toContain('tlsKey (--tls-key, ZTMINT_COORDINATOR_TLS_KEY) is required with tlsCert');
    const signer = await refusal(resolveConfig(COORDINATOR_OPTIONS, { flags: { ...flagValues(parsed(COORDINATOR_OPTIONS, COORDINATOR_MINIMAL), COORDINATOR_OPTIONS), signers: ['no-url'] }, env: {} }));
    expect(signer.message).toContain('signers (--signer, ZTMINT_COORDINATOR_SIGNERS) item 0');
  });

  it('an unreadable or malformed file is refused with its path', async () => {
    expect((await refusal(resolveConfig(SIGNER_OPTIONS, { flags: {}, env: {}, file: join(dir, 'missing.yaml') }))).message).toContain('ENOENT');
    const dup = await file('dup.yaml', 'port: 1\nport: 2\n');
    expect((await refusal(resolveConfig(SIGNER_OPTIONS, { flags: {}, env: {}, file: dup }))).message).toContain(dup);
    const list = await file('list.yaml', '- state\n');
    expect((await refusal(resolveConfig(SIGNER_OPTIONS, { flags: {}, env: {}, file: list }))).message).toContain('mapping');
  });
});
