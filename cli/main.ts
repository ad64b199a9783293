// `ztmint`: the operator CLI and the services' entry points. Thin: each command calls a function.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startCoordinator } from '../coordinator/main.js';
import { GITHUB_ISSUER } from '../oidc/verifier.js';
import { DEFAULT_RATE_LIMITS, type RateLimitRule } from '../coordinator/rate-limit.js';
import { startSigner } from '../signers/main.js';
import { runDevStack } from './dev.js';
import { keygen } from './keygen.js';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from './paths.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerSealCommands } from './seal-commands.js';
import { registerDkgCommands } from './dkg-commands.js';
import { storeOption, verifyAudit } from './store-options.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

/** "600/min,120" → 600 per minute with bursts of 120. */
function rateRule(value: string): RateLimitRule {
  const match = /^(\d+)(?:\/min)?,(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected N/min,BURST, e.g. 600/min,120');
  return { perMinute: Number(match[1]), burst: Number(match[2]) };
}

function requireOption(value: string | undefined, flag: string): string {
  if (!value) throw new InvalidArgumentError(`${flag} is required with --snp-source file`);
  return resolve(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Services stop cleanly on SIGTERM/SIGINT so in-flight requests finish and files are closed. */
function closeOnSignal(close: () => Promise<unknown>): void {
  const handler = () => void close().finally(() => process.exit(0));
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

const program = new Command('ztmint')
  .description('Trade a GitHub Actions OIDC identity for a short-lived deploy JWT co-signed by a FROST quorum')
  .showHelpAfterError();

program
  .command('dev')
  .description('run the local dev stack: GitHub-like OIDC issuer, signer processes and coordinator on loopback')
  .option('--state <dir>', 'state directory (default: a new temporary one)')
  .addOption(new Option('--signers <n>', 'number of signers').argParser(integer).default(3))
  .addOption(new Option('--threshold <t>', 'signers needed for a signature').argParser(integer).default(2))
  .option('--policy-data <file>', 'policy data (default: policies/data.json)')
  .option('--json', 'print one JSON ready line and run until SIGINT/SIGTERM', false)
  .option('--once', 'exit after the demo mint', false)
  .option('--rate-repository <n/min,burst>', 'coordinator mint rate limit per repository')
  .option('--rate-sub <n/min,burst>', 'coordinator mint rate limit per OIDC subject')
  .option('--snp-report <file>', 'serve this SEV-SNP report from every signer (with --snp-vcek; testing the attestation gate)')
  .option('--snp-vcek <file>', 'the VCEK certificate (DER) for --snp-report')
  .addOption(storeOption())
  .addOption(new Option('--coordinators <n>', 'coordinator replicas (more than one needs --store postgres://…)').argParser(integer).default(1))
  .action((opts) => runDevStack(opts));

program
  .command('keygen')
  .description('trusted-dealer key set, sealed shares and local CA (dev only; use DKG in production)')
  .requiredOption('--state <dir>', 'state directory to create')
  .addOption(new Option('--signers <n>', 'number of signers').argParser(integer).default(3))
  .addOption(new Option('--threshold <t>', 'signers needed for a signature').argParser(integer).default(2))
  .action(async (opts) => {
    const group = await keygen({ state: resolve(opts.state), signers: opts.signers, threshold: opts.threshold, log: (l) => console.log(l) });
    console.log(`wrote ${join(resolve(opts.state), 'group.json')} (group key ${group.group_public_key})`);
  });

program
  .command('signer')
  .description('run one signer (mTLS service holding one sealed key share)')
  .requiredOption('--state <dir>', 'state directory')
  .requiredOption('--index <i>', 'which signer (1-based)', integer)
  .option('--host <host>', 'listen address', '127.0.0.1')
  .addOption(new Option('--port <port>', 'listen port (0: any)').argParser(integer).default(0))
  .option('--allow-client <cn>', 'client certificate CN allowed to call (repeatable)', collect, [])
  .requiredOption('--token-issuer <url>', 'the coordinator\'s issuer URL: every token this signer signs must carry it as iss')
  .option('--oidc-issuer <url>', `trusted OIDC issuer (repeatable; default ${GITHUB_ISSUER})`, collect, [])
  .requiredOption('--oidc-audience <aud>', 'audience the OIDC token must carry (as configured at the coordinator)')
  .option('--policy-wasm <file>', 'compiled policy', DEFAULT_POLICY_WASM)
  .option('--policy-data <file>', 'policy data', DEFAULT_POLICY_DATA)
  .option('--policy-pin <sha256>', 'refuse any policy bundle with another hash (the token\'s pol claim)')
  .addOption(new Option('--snp-source <source>', 'SEV-SNP evidence in /v1/info: configfs (in a confidential VM) or file').choices(['configfs', 'file']))
  .option('--snp-report <file>', 'with --snp-source file: the attestation report (binary or hex)')
  .option('--snp-vcek <file>', 'the VCEK certificate (DER); with configfs, instead of the host\'s certificate table')
  .action(async (opts) => {
    const allowedClients = opts.allowClient.length ? opts.allowClient : ['coordinator'];
    const { app, url, identifier, policyHash } = await startSigner({
      state: resolve(opts.state),
      index: opts.index,
      host: opts.host,
      port: opts.port,
      allowedClients,
      tokenIssuer: opts.tokenIssuer,
      oidcIssuers: (opts.oidcIssuer.length ? opts.oidcIssuer : [GITHUB_ISSUER]).map((issuer: string) => ({ issuer })),
      oidcAudience: opts.oidcAudience,
      policyWasm: resolve(opts.policyWasm),
      policyData: resolve(opts.policyData),
      policyPin: opts.policyPin,
      ...(opts.snpSource === 'configfs' ? { snp: { source: 'configfs' as const, vcek: opts.snpVcek } } : {}),
      ...(opts.snpSource === 'file' ? { snp: { source: 'file' as const, report: requireOption(opts.snpReport, '--snp-report'), vcek: requireOption(opts.snpVcek, '--snp-vcek') } } : {}),
    });
    closeOnSignal(() => app.close());
    console.log(JSON.stringify({ ready: true, url, pid: process.pid, identifier, policy: policyHash }));
  });

program
  .command('coordinator')
  .description('run the coordinator (mint service)')
  .requiredOption('--state <dir>', 'state directory')
  .option('--oidc-issuer <url>', `trusted OIDC issuer (repeatable; GHES: https://HOST/_services/token; default ${GITHUB_ISSUER})`, collect, [])
  .requiredOption('--oidc-audience <aud>', 'audience the OIDC token must carry')
  .requiredOption('--signer <name=url>', 'a signer endpoint (repeatable)', collect, [])
  .option('--host <host>', 'listen address', '127.0.0.1')
  .addOption(new Option('--port <port>', 'listen port (0: any)').argParser(integer).default(0))
  .option('--public-url <url>', 'issuer URL of minted tokens (default: the listening address)')
  .option('--policy-wasm <file>', 'compiled policy', DEFAULT_POLICY_WASM)
  .option('--policy-data <file>', 'policy data', DEFAULT_POLICY_DATA)
  .addOption(new Option('--rate-repository <n/min,burst>', 'mint rate limit per repository').argParser(rateRule).default(DEFAULT_RATE_LIMITS.repository))
  .addOption(new Option('--rate-sub <n/min,burst>', 'mint rate limit per OIDC subject').argParser(rateRule).default(DEFAULT_RATE_LIMITS.sub))
  .addOption(storeOption())
  .action(async (opts) => {
    const signers = (opts.signer as string[]).map((spec) => {
      const [name, url] = spec.split(/=(.*)/s);
      if (!name || !url) throw new InvalidArgumentError(`--signer expects name=url, got ${spec}`);
      return { name, url };
    });
    const { app, url, issuer, policyHash } = await startCoordinator({
      state: resolve(opts.state),
      host: opts.host,
      port: opts.port,
      publicUrl: opts.publicUrl,
      oidcIssuers: (opts.oidcIssuer.length ? opts.oidcIssuer : [GITHUB_ISSUER]).map((issuer: string) => ({ issuer })),
      rateLimits: { repository: opts.rateRepository, sub: opts.rateSub },
      oidcAudience: opts.oidcAudience,
      signers,
      policyWasm: resolve(opts.policyWasm),
      policyData: resolve(opts.policyData),
      store: opts.store,
    });
    closeOnSignal(() => app.close());
    console.log(JSON.stringify({ ready: true, url, issuer, pid: process.pid, policy: policyHash }));
  });

registerPolicyCommands(program);
registerSealCommands(program); // after `signer`: adds `signer reseal` / `signer inspect`
registerDkgCommands(program); // `dkg` and `signer dkg-serve`

const audit = program.command('audit').description('audit log operations');
audit
  .command('verify')
  .description('check the audit log\'s hash chain end to end')
  .option('--state <dir>', 'state directory (file store)')
  .addOption(storeOption())
  .action(async (opts) => console.log(await verifyAudit(opts)));

program.parseAsync().catch((err: Error) => {
  console.error(`ztmint: ${err.message}`);
  process.exit(1);
});
