// `ztmint`: the operator CLI and the services' entry points. Thin: each command calls a function.
import { Command, InvalidArgumentError, Option } from 'commander';
import { addServiceOptions, configFileOf, flagValues } from '../config/commander.js';
import { resolveConfig } from '../config/load.js';
import { COORDINATOR_OPTIONS, SIGNER_OPTIONS } from '../config/option-table.js';
import { coordinatorOptionsFrom, signerOptionsFrom } from './service-config.js';
import { join, resolve } from 'node:path';
import { startCoordinator } from '../coordinator/main.js';
import { startSigner } from '../signers/main.js';
import { startTracing } from '../tracing/setup.js';
import { runDevStack } from './dev.js';
import { keygen } from './keygen.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerSealCommands } from './seal-commands.js';
import { registerDkgCommands } from './dkg-commands.js';
import { registerPkiCommands } from './pki-commands.js';
import { registerStatusCommands } from './status-commands.js';
import { registerAuditExportCommands } from './audit-export-commands.js';
import { registerKeysCommands } from './keys-commands.js';
import { storeOption } from './store-options.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerAuditLogCommands } from './audit-log-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { closeOnSignal, SHUTDOWN_GRACE_MS } from './shutdown.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

const program = new Command('ztmint').description('Trade a GitHub Actions OIDC identity for a short-lived deploy JWT co-signed by a FROST quorum').showHelpAfterError();

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
  .addOption(new Option('--insecure-no-transparency-proofs', 'INSECURE, benchmarks only: the coordinator signs no log checkpoints and mints carry no inclusion proof').default(false))
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
  .description('run one signer (mTLS service holding one sealed key share); every option is also a config file key and an environment variable')
  .action(async (_opts, command: Command) => {
    const { values } = await resolveConfig(SIGNER_OPTIONS, { flags: flagValues(command, SIGNER_OPTIONS), env: process.env, file: configFileOf(command, SIGNER_OPTIONS, process.env) });
    const options = signerOptionsFrom(values);
    const tracing = startTracing(`ztmint-signer-${options.index}`);
    const { app, url, identifier, policyHash, metricsUrl } = await startSigner(options);
    closeOnSignal(() => app.close().finally(() => tracing.shutdown()), { graceMs: SHUTDOWN_GRACE_MS, server: () => app.server });
    console.log(JSON.stringify({ ready: true, url, pid: process.pid, identifier, policy: policyHash, ...(metricsUrl ? { metrics: metricsUrl } : {}) }));
  });
addServiceOptions(
  program.commands.find((c) => c.name() === 'signer')!,
  SIGNER_OPTIONS,
);

addServiceOptions(program.command('coordinator'), COORDINATOR_OPTIONS)
  .description('run the coordinator (mint service); every option is also a config file key and an environment variable')
  .action(async (_opts, command: Command) => {
    const { values } = await resolveConfig(COORDINATOR_OPTIONS, { flags: flagValues(command, COORDINATOR_OPTIONS), env: process.env, file: configFileOf(command, COORDINATOR_OPTIONS, process.env) });
    const tracing = startTracing('ztmint-coordinator');
    const { app, url, issuer, policyHash, metricsUrl, adminUrl } = await startCoordinator(coordinatorOptionsFrom(values));
    closeOnSignal(() => app.close().finally(() => tracing.shutdown()), { graceMs: SHUTDOWN_GRACE_MS, server: () => app.server });
    console.log(JSON.stringify({ ready: true, url, issuer, pid: process.pid, policy: policyHash, ...(metricsUrl ? { metrics: metricsUrl } : {}), ...(adminUrl ? { admin: adminUrl } : {}) }));
  });

registerPolicyCommands(program);
registerSealCommands(program); // after `signer`: adds `signer reseal` / `signer inspect`
registerDkgCommands(program); // `dkg` and `signer dkg-serve`
registerPkiCommands(program);
registerStatusCommands(program);
registerKeysCommands(program); // `keys status`, `keys rotate`, `keys refresh|repair|reshare`

registerAuditLogCommands(program); // audit verify (chain, Merkle log, copies), prove, verify-proof, monitor
registerAuditCommands(program); // after `audit verify`: list, search, show, tail
registerAdminCommands(program);
registerTokenCommands(program);
registerAuditExportCommands(program); // `audit export`, `audit cross-check`

program.parseAsync().catch((err: Error) => {
  console.error(`ztmint: ${err.message}`);
  process.exit(1);
});
