// From a resolved configuration (config/load.ts) to the options startCoordinator/startSigner
// take: parse the few composite values (rate rules, name=url), resolve paths, apply the
// defaults that are computed at run time (paths inside the package and the state directory).
import { resolve } from 'node:path';
import type { CoordinatorOptions } from '../coordinator/main.js';
import type { RateLimitRule } from '../coordinator/rate-limit.js';
import type { SignerProcessOptions } from '../signers/main.js';
import { ConfigError } from '../config/errors.js';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from './paths.js';
import type { BundleSetOptions } from '../policy-engine/bundle-set.js';
import { parseWitnessOption, type WitnessEndpoint } from '../transparency/witness-client.js';

type Values = Record<string, unknown>;

/** The optional plain-HTTP metrics listener (off unless metricsPort is set). */
function metricsListen(values: Values) {
  return values.metricsPort !== undefined ? { metricsListen: { port: values.metricsPort as number, host: values.metricsHost as string } } : {};
}

/** "600/min,120" → 600 per minute with bursts of 120 (the schema already checked the shape). */
export function rateRule(value: string): RateLimitRule {
  const match = /^(\d+)(?:\/min)?,(\d+)$/.exec(value);
  if (!match) throw new ConfigError(`rate limit ${JSON.stringify(value)}: expected N/min,BURST, e.g. 600/min,120`);
  return { perMinute: Number(match[1]), burst: Number(match[2]) };
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const path = (v: unknown) => (typeof v === 'string' ? resolve(v) : undefined);

/** Only the mTLS paths that were set; the service fills in the rest from <state>/tls. */
function mtlsPaths(values: Values) {
  const out: { cert?: string; key?: string; ca?: string } = {};
  if (values.mtlsCert !== undefined) out.cert = path(values.mtlsCert);
  if (values.mtlsKey !== undefined) out.key = path(values.mtlsKey);
  if (values.mtlsCa !== undefined) out.ca = path(values.mtlsCa);
  return out;
}

export function coordinatorOptionsFrom(values: Values): CoordinatorOptions {
  const signers = (values.signers as string[]).map((spec) => {
    const [name, url] = spec.split(/=(.*)/s);
    return { name: name!, url: url! };
  });
  return {
    state: resolve(values.state as string),
    host: values.host as string,
    port: values.port as number,
    publicUrl: str(values.publicUrl),
    oidcIssuers: (values.oidcIssuers as string[]).map((issuer) => ({ issuer })),
    oidcAudience: values.oidcAudience as string,
    signers,
    policyWasm: path(values.policyWasm) ?? DEFAULT_POLICY_WASM,
    policyData: path(values.policyData) ?? DEFAULT_POLICY_DATA,
    ...policyBundles(values),
    rateLimits: { repository: rateRule(values.rateRepository as string), sub: rateRule(values.rateSub as string) },
    ...(values.tlsCert !== undefined ? { tls: { cert: path(values.tlsCert)!, key: path(values.tlsKey)! } } : {}),
    mtls: mtlsPaths(values) as CoordinatorOptions['mtls'],
    ...((values.trustProxy as string[] | undefined)?.length ? { trustProxy: values.trustProxy as string[] } : {}),
    ...(values.store !== undefined ? { store: values.store as string } : {}),
    ...metricsListen(values),
    ...(values.adminPort !== undefined
      ? { admin: { port: values.adminPort as number, host: values.adminHost as string, admins: values.adminAllowClients as string[], introspectors: values.introspectionAllowClients as string[] } }
      : {}),
    ...(values.introspectionTokenFile !== undefined ? { introspectionTokenFile: path(values.introspectionTokenFile)! } : {}),
    ...witnesses(values),
    allowInsecure: { httpIssuer: values.insecureAllowHttpIssuer === true, noSigners: values.insecureAllowNoSigners === true },
    ...(values.insecureNoTransparencyProofs === true ? { noTransparencyProofs: true } : {}),
    ...(values.keyActivationDelay !== undefined ? { keyActivationDelayS: values.keyActivationDelay as number } : {}),
    ...(values.keyOverlap !== undefined ? { keyOverlapS: values.keyOverlap as number } : {}),
  };
}

/** External tlog witnesses, `<cosigner vkey>=<url>` each. */
function witnesses(values: Values): { witnesses?: WitnessEndpoint[] } {
  const specs = (values.witnesses as string[] | undefined) ?? [];
  if (specs.length === 0) return {};
  return {
    witnesses: specs.map((spec) => {
      try {
        return parseWitnessOption(spec);
      } catch (err) {
        throw new ConfigError(`invalid configuration: witnesses: ${(err as Error).message}; give the witness's cosigner key as it prints it, then =, then its URL`);
      }
    }),
  };
}

/** Signed bundles instead of the wasm+data pair, when a bundle directory is given. */
function policyBundles(values: Values): { policyBundles?: BundleSetOptions } {
  const bundleDir = path(values.policyBundleDir);
  if (!bundleDir) return {};
  const adminKeys = (values.policyAdminKeys as string[] | undefined) ?? [];
  if (adminKeys.length === 0) throw new ConfigError('invalid configuration: policyBundleDir needs at least one policyAdminKeys (--policy-admin-key FILE)');
  return { policyBundles: { bundleDir, adminKeys: adminKeys.map((k) => path(k)!), revisionsFile: path(values.policyRevisionsFile)! } };
}

export function signerOptionsFrom(values: Values): SignerProcessOptions {
  const snpSource = str(values.snpSource);
  const need = (key: 'snpReport' | 'snpVcek') => {
    const v = path(values[key]);
    if (!v) throw new ConfigError(`invalid signer configuration: ${key} is required with snpSource file`);
    return v;
  };
  return {
    state: resolve(values.state as string),
    index: values.index as number,
    ...(typeof values.group === 'string' ? { group: resolve(values.group) } : {}),
    host: values.host as string,
    port: values.port as number,
    allowedClients: values.allowClients as string[],
    tokenIssuer: values.tokenIssuer as string,
    oidcIssuers: (values.oidcIssuers as string[]).map((issuer) => ({ issuer })),
    oidcAudience: values.oidcAudience as string,
    policyWasm: path(values.policyWasm) ?? DEFAULT_POLICY_WASM,
    policyData: path(values.policyData) ?? DEFAULT_POLICY_DATA,
    policyPin: str(values.policyPin),
    ...policyBundles(values),
    ...(snpSource === 'configfs' ? { snp: { source: 'configfs' as const, vcek: path(values.snpVcek) } } : {}),
    ...(snpSource === 'file' ? { snp: { source: 'file' as const, report: need('snpReport'), vcek: need('snpVcek') } } : {}),
    mtls: mtlsPaths(values) as SignerProcessOptions['mtls'],
    metricsClients: values.metricsClients as string[],
    logClients: values.logClients as string[],
    ...metricsListen(values),
    allowInsecure: { httpIssuer: values.insecureAllowHttpIssuer === true, fileKeyProvider: values.insecureAllowFileKeyProvider === true },
  };
}
