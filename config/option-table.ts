// The one table of every service option. The config file's JSON Schema, the command-line flags
// and the environment variables are all derived from it, so the three cannot drift apart
// (test/config.test.ts checks each key has a flag and an environment variable).
import { GITHUB_ISSUER } from '../oidc/verifier.js';

export type ServiceName = 'coordinator' | 'signer';

type OptionType = 'string' | 'integer' | 'boolean' | 'string-list';

export interface OptionSpec {
  /** The key in the config file (camelCase); also names the flag and the environment variable. */
  key: string;
  /** Flag name without dashes when it is not the kebab-case key (e.g. repeatable `--signer` for `signers`). */
  flag?: string;
  /** Placeholder in --help, e.g. `<url>`. */
  value?: string;
  type: OptionType;
  description: string;
  /** A JSON default, also written into the schema. */
  default?: unknown;
  /** How the default reads in the docs when it is computed at run time (e.g. a path inside the package). */
  defaultText?: string;
  required?: boolean;
  /** Further JSON Schema keywords for the value (pattern, enum, minimum, …; for lists: for each item). */
  schema?: Record<string, unknown>;
}

export interface ServiceOptionTable {
  service: ServiceName;
  title: string;
  options: OptionSpec[];
  /** Keys that require other keys (JSON Schema `dependencies`), e.g. tlsCert needs tlsKey. */
  together?: Record<string, string[]>;
}

const URL_PATTERN = '^https?://[^\\s]+$';
/** "600/min,120": 600 mints a minute with bursts of 120. */
const RATE_PATTERN = '^\\d+(/min)?,\\d+$';
const PORT = { minimum: 0, maximum: 65_535 };
const NON_EMPTY = { minLength: 1 };

const policyOptions: OptionSpec[] = [
  { key: 'policyWasm', value: '<file>', type: 'string', description: 'compiled policy (OPA Wasm)', defaultText: 'policies/wasm/mint.wasm in the package', schema: NON_EMPTY },
  { key: 'policyData', value: '<file>', type: 'string', description: 'policy data (JSON)', defaultText: 'policies/data.json in the package', schema: NON_EMPTY },
  {
    key: 'policyBundleDir',
    value: '<dir>',
    type: 'string',
    description: 'directory of signed OPA policy bundles (*.tar.gz), rescanned every second; replaces policyWasm/policyData (docs/policy.md, staged rollout)',
    defaultText: 'none: policyWasm and policyData',
    schema: NON_EMPTY,
  },
  {
    key: 'policyAdminKeys',
    flag: 'policy-admin-key',
    value: '<file>',
    type: 'string-list',
    description: 'PEM public key of a policy admin; a bundle is loaded only with a valid signature by one of them (repeatable)',
    default: [],
    schema: NON_EMPTY,
  },
  {
    key: 'policyRevisionsFile',
    value: '<file>',
    type: 'string',
    description: 'the policy revisions accepted, one a line, in order of preference (the coordinator mints with the first it holds); reloaded on change',
    schema: NON_EMPTY,
  },
];

/** A bundle directory is useless without the keys that verify it and the revisions to accept. */
const POLICY_TOGETHER = { policyBundleDir: ['policyRevisionsFile'], policyRevisionsFile: ['policyBundleDir'] };

/** The mTLS credentials between coordinator and signers; by default the ones `ztmint keygen` wrote into <state>/tls. */
function mtlsOptions(self: string): OptionSpec[] {
  return [
    {
      key: 'mtlsCert',
      value: '<file>',
      type: 'string',
      description: `mTLS certificate (PEM) of this ${self}; reloaded when the file changes`,
      defaultText: `<state>/tls/${self === 'signer' ? 'signer-<index>' : 'coordinator'}.pem`,
      schema: NON_EMPTY,
    },
    {
      key: 'mtlsKey',
      value: '<file>',
      type: 'string',
      description: 'private key (PEM) of mtlsCert; reloaded when the file changes',
      defaultText: `<state>/tls/${self === 'signer' ? 'signer-<index>' : 'coordinator'}-key.pem`,
      schema: NON_EMPTY,
    },
    {
      key: 'mtlsCa',
      value: '<file>',
      type: 'string',
      description: "CA certificate(s) (PEM) the other side's mTLS certificate must chain to; reloaded when the file changes",
      defaultText: '<state>/tls/ca.pem',
      schema: NON_EMPTY,
    },
  ];
}

/** Insecure choices refuse to start unless allowed by a flag whose name says so (config/insecure-choices.ts). */
function insecureHttpIssuer(self: ServiceName): OptionSpec {
  return {
    key: 'insecureAllowHttpIssuer',
    type: 'boolean',
    description: `INSECURE, dev stack and tests only: let this ${self} trust an http:// OIDC issuer or JWKS URL`,
    default: false,
  };
}

export const COORDINATOR_OPTIONS: ServiceOptionTable = {
  service: 'coordinator',
  title: 'ztmint coordinator',
  options: [
    { key: 'state', value: '<dir>', type: 'string', required: true, description: 'state directory (group.json; with the embedded store also the audit log)', schema: NON_EMPTY },
    {
      key: 'store',
      value: '<store>',
      type: 'string',
      description: 'state store shared by replicas (revocations, replay set, rate limits, audit log)',
      defaultText: 'the embedded file store in <state>',
      schema: NON_EMPTY,
    },
    {
      key: 'oidcIssuers',
      flag: 'oidc-issuer',
      value: '<url>',
      type: 'string-list',
      description: 'trusted OIDC issuer (repeatable; GHES: https://HOST/_services/token)',
      default: [GITHUB_ISSUER],
      schema: { pattern: URL_PATTERN },
    },
    { key: 'oidcAudience', value: '<aud>', type: 'string', required: true, description: 'audience the OIDC token must carry', schema: NON_EMPTY },
    {
      key: 'signers',
      flag: 'signer',
      value: '<name=url>',
      type: 'string-list',
      description: 'a signer endpoint, name=https://host:port (repeatable); none only with insecureAllowNoSigners',
      default: [],
      schema: { pattern: '^[A-Za-z0-9._-]+=https://[^\\s]+$' },
    },
    { key: 'host', value: '<host>', type: 'string', description: 'listen address', default: '127.0.0.1', schema: NON_EMPTY },
    { key: 'port', value: '<port>', type: 'integer', description: 'listen port (0: any)', default: 0, schema: PORT },
    {
      key: 'publicUrl',
      value: '<url>',
      type: 'string',
      description: 'issuer URL of minted tokens, as clients reach the service (set it behind a load balancer or proxy)',
      defaultText: 'the listening address',
      schema: { pattern: URL_PATTERN },
    },
    ...policyOptions,
    { key: 'rateRepository', value: '<n/min,burst>', type: 'string', description: 'mint rate limit per repository', default: '600/min,120', schema: { pattern: RATE_PATTERN } },
    { key: 'rateSub', value: '<n/min,burst>', type: 'string', description: 'mint rate limit per OIDC subject', default: '120/min,30', schema: { pattern: RATE_PATTERN } },
    {
      key: 'tlsCert',
      value: '<file>',
      type: 'string',
      description: 'serve HTTPS with this certificate chain (PEM); reloaded when the file changes',
      defaultText: 'none: plain HTTP (behind a TLS-terminating proxy)',
      schema: NON_EMPTY,
    },
    { key: 'tlsKey', value: '<file>', type: 'string', description: 'private key (PEM) of tlsCert; reloaded when the file changes', schema: NON_EMPTY },
    { key: 'metricsPort', value: '<port>', type: 'integer', description: 'also serve GET /metrics on this separate plain-HTTP port', defaultText: 'off', schema: PORT },
    { key: 'metricsHost', value: '<host>', type: 'string', description: 'listen address of metricsPort', default: '127.0.0.1', schema: NON_EMPTY },
    {
      key: 'trustProxy',
      value: '<address>',
      type: 'string-list',
      description: 'address or CIDR of a proxy whose X-Forwarded-For/-Proto headers are believed (repeatable)',
      default: [],
      schema: NON_EMPTY,
    },
    {
      key: 'adminPort',
      value: '<port>',
      type: 'integer',
      description:
        'serve the admin API (revoke, audit, introspect; docs/admin.md; key rotation: docs/keys.md) on this separate HTTPS port, with the mTLS certificate, to clients whose certificate chains to mtlsCa',
      defaultText: 'off',
      schema: PORT,
    },
    { key: 'adminHost', value: '<host>', type: 'string', description: 'listen address of adminPort', default: '127.0.0.1', schema: NON_EMPTY },
    {
      key: 'adminAllowClients',
      flag: 'admin-allow-client',
      value: '<cn>',
      type: 'string-list',
      description: 'client certificate CN allowed to call the admin API (repeatable)',
      default: ['admin'],
      schema: NON_EMPTY,
    },
    {
      key: 'introspectionAllowClients',
      flag: 'introspection-allow-client',
      value: '<cn>',
      type: 'string-list',
      description: 'client certificate CN that may call POST /v1/introspect on the admin port, and nothing else (repeatable; resource servers)',
      default: [],
      schema: NON_EMPTY,
    },
    {
      key: 'introspectionTokenFile',
      value: '<file>',
      type: 'string',
      description: 'bearer tokens (one per line) that resource servers send to POST /v1/introspect on the public port; compared by SHA-256',
      defaultText: 'none: public introspection answers 401 invalid_client',
      schema: NON_EMPTY,
    },
    {
      key: 'witnesses',
      flag: 'witness',
      value: '<vkey=url>',
      type: 'string-list',
      description:
        "an external C2SP tlog witness that cosigns each log checkpoint: its cosigner verifier key, '=', its base URL (repeatable; best effort: failures are logged and counted, mints go on)",
      default: [],
      schema: { pattern: '^[^\\s+=]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]+=https?://[^\\s]+$' },
    },
    ...mtlsOptions('coordinator'),
    insecureHttpIssuer('coordinator'),
    {
      key: 'insecureNoTransparencyProofs',
      type: 'boolean',
      description:
        'INSECURE, benchmarks only: sign no transparency-log checkpoints and answer mints without an inclusion proof (records are still appended to the log); for measuring what the log costs',
      default: false,
    },
    {
      key: 'insecureAllowNoSigners',
      type: 'boolean',
      description: 'INSECURE, tests only: start with no signer (it can mint nothing; readiness stays false)',
      default: false,
    },
    {
      key: 'keyActivationDelay',
      value: '<seconds>',
      type: 'integer',
      description: 'key rotation: seconds a new key is in the JWKS before it signs (at least the JWKS cache time of every verifier)',
      default: 600,
      schema: { minimum: 0, maximum: 604_800 },
    },
    {
      key: 'keyOverlap',
      value: '<seconds>',
      type: 'integer',
      description: "key rotation: seconds the previous key stays in the JWKS after the new one activates (at least the policy's ttl.max, the longest token lifetime)",
      defaultText: "the policy data's ttl.max",
      schema: { minimum: 0, maximum: 2_592_000 },
    },
  ],
  together: { tlsCert: ['tlsKey'], tlsKey: ['tlsCert'], ...POLICY_TOGETHER },
};

export const SIGNER_OPTIONS: ServiceOptionTable = {
  service: 'signer',
  title: 'ztmint signer',
  options: [
    { key: 'state', value: '<dir>', type: 'string', required: true, description: 'state directory (group.json, signers/<index>/share.sealed)', schema: NON_EMPTY },
    { key: 'index', value: '<i>', type: 'integer', required: true, description: 'which signer (1-based)', schema: { minimum: 1, maximum: 255 } },
    {
      key: 'group',
      value: '<file>',
      type: 'string',
      description:
        'the key set this signer belongs to, before its key ring (keyring.json) exists; a new member joining by a reshare has only this and its index (it starts without a share and waits for the reshare)',
      defaultText: '<state>/group.json',
      schema: NON_EMPTY,
    },
    { key: 'host', value: '<host>', type: 'string', description: 'listen address', default: '127.0.0.1', schema: NON_EMPTY },
    { key: 'port', value: '<port>', type: 'integer', description: 'listen port (0: any)', default: 0, schema: PORT },
    { key: 'allowClients', flag: 'allow-client', value: '<cn>', type: 'string-list', description: 'client certificate CN allowed to call (repeatable)', default: ['coordinator'], schema: NON_EMPTY },
    {
      key: 'tokenIssuer',
      value: '<url>',
      type: 'string',
      required: true,
      description: "the coordinator's issuer URL: every token this signer signs must carry it as iss",
      schema: { pattern: URL_PATTERN },
    },
    {
      key: 'oidcIssuers',
      flag: 'oidc-issuer',
      value: '<url>',
      type: 'string-list',
      description: 'trusted OIDC issuer (repeatable); the signer fetches its JWKS itself',
      default: [GITHUB_ISSUER],
      schema: { pattern: URL_PATTERN },
    },
    { key: 'oidcAudience', value: '<aud>', type: 'string', required: true, description: 'audience the OIDC token must carry (as configured at the coordinator)', schema: NON_EMPTY },
    ...policyOptions,
    { key: 'policyPin', value: '<sha256>', type: 'string', description: "refuse any policy bundle with another hash (the token's pol claim)", schema: { pattern: '^[0-9a-f]{64}$' } },
    {
      key: 'metricsClients',
      flag: 'metrics-client',
      value: '<cn>',
      type: 'string-list',
      description: 'client certificate CN that may read GET /metrics on the mTLS port, and nothing else (repeatable; the allowClients CNs may too)',
      default: [],
      schema: NON_EMPTY,
    },
    { key: 'metricsPort', value: '<port>', type: 'integer', description: 'also serve GET /metrics on this separate plain-HTTP port', defaultText: 'off', schema: PORT },
    { key: 'metricsHost', value: '<host>', type: 'string', description: 'listen address of metricsPort', default: '127.0.0.1', schema: NON_EMPTY },
    {
      key: 'logClients',
      flag: 'log-client',
      value: '<cn>',
      type: 'string-list',
      description: "client certificate CN that may read this signer's share log (GET /v1/log/…) on the mTLS port, and nothing else (repeatable; the allowClients CNs may too)",
      default: [],
      schema: NON_EMPTY,
    },
    { key: 'snpSource', value: '<source>', type: 'string', description: 'SEV-SNP evidence in /v1/info: configfs (in a confidential VM) or file', schema: { enum: ['configfs', 'file'] } },
    { key: 'snpReport', value: '<file>', type: 'string', description: 'with snpSource file: the attestation report (binary or hex)', schema: NON_EMPTY },
    { key: 'snpVcek', value: '<file>', type: 'string', description: "the VCEK certificate (DER); with configfs, instead of the host's certificate table", schema: NON_EMPTY },
    ...mtlsOptions('signer'),
    insecureHttpIssuer('signer'),
    {
      key: 'insecureAllowFileKeyProvider',
      type: 'boolean',
      description: 'INSECURE, dev stack and tests only: start with a share sealed by the file key provider (its key lies beside it on disk)',
      default: false,
    },
  ],
  together: POLICY_TOGETHER,
};

export const SERVICE_TABLES: readonly ServiceOptionTable[] = [COORDINATOR_OPTIONS, SIGNER_OPTIONS];

/** `publicUrl` → `public-url`. */
export function flagName(spec: OptionSpec): string {
  return spec.flag ?? spec.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `publicUrl` of the coordinator → `ZTMINT_COORDINATOR_PUBLIC_URL`. */
export function envName(service: ServiceName, spec: OptionSpec): string {
  return `ZTMINT_${service.toUpperCase()}_${spec.key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** The variable naming the config file itself, e.g. `ZTMINT_SIGNER_CONFIG`. */
export function configEnvName(service: ServiceName): string {
  return `ZTMINT_${service.toUpperCase()}_CONFIG`;
}
