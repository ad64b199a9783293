// `ztmint dkg` (relay a distributed key generation, write group.json) and `ztmint signer dkg-serve`
// (a signer taking part in one: it has no share yet and seals the one it ends up with).
//
//   ztmint dkg --state DIR --signers 3 --threshold 2           local: PKI if missing, 3 DKG signers, relay
//   ztmint dkg --state DIR --signers 3 --pki-only              just the local CA and certificates
//   ztmint signer dkg-serve --state DIR --index 1 --port 7001  on each signer host
//   ztmint dkg --state DIR --threshold 2 --signer signer-1=https://h1:7001 --signer signer-2=… --signer signer-3=…
//
// Wire-up in cli/main.ts, after registerSealCommands(program): registerDkgCommands(program).
import { type Command, InvalidArgumentError, Option } from 'commander';
import { join, resolve } from 'node:path';
import type { RelaySigner } from '../coordinator/dkg-relay.js';
import { startDkgSigner } from '../signers/dkg-main.js';
import { identifierFromIndex } from '../protocol/ciphersuite.js';
import { runDkg } from './dkg.js';
import { targetFromOptions } from './seal-commands.js';
import { MODULE_ENV } from '../signers/key-providers/index.js';
import { signerParentCommand } from './signer-subcommands.js';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function endpoint(spec: string): RelaySigner {
  const [name, url] = spec.split(/=(.*)/s);
  if (!name || !url || !/^signer-\d+$/.test(name)) throw new InvalidArgumentError(`--signer expects signer-<i>=<url>, got ${spec}`);
  return { name, url };
}

export function registerDkgCommands(program: Command): void {
  program
    .command('dkg')
    .description('distributed key generation across signer processes (no trusted dealer): each signer seals its own share, this relay writes <state>/group.json')
    .requiredOption('--state <dir>', "state directory (its tls/ is created like keygen's if missing)")
    .addOption(new Option('--signers <n>', 'number of signers').argParser(integer).default(3))
    .addOption(new Option('--threshold <t>', 'signers needed for a signature').argParser(integer).default(2))
    .option('--signer <name=url>', 'a running `ztmint signer dkg-serve`, e.g. signer-1=https://host:7001 (repeatable; default: start --signers local ones)', collect, [])
    .option('--transcript <file>', 'write everything the relay sent and received to FILE (JSON)')
    .option('--pki-only', 'create the local CA and certificates if missing, then stop', false)
    .option('--force', 'replace an existing key set (group.json; local signers replace their shares)', false)
    .addOption(new Option('--timeout <ms>', 'per request to a signer').argParser(integer).default(60_000))
    .option('--json', 'print one JSON line with the result instead of progress', false)
    .action(async function (this: Command, opts) {
      const endpoints = (opts.signer as string[]).map(endpoint);
      if (endpoints.length && this.getOptionValueSource('signers') !== 'default' && opts.signers !== endpoints.length) {
        throw new InvalidArgumentError(`--signers ${opts.signers} but ${endpoints.length} --signer endpoints`);
      }
      const say = (line: string) => {
        if (!opts.json) console.log(line);
      };
      const result = await runDkg({
        state: resolve(opts.state),
        signers: opts.signers,
        threshold: opts.threshold,
        endpoints,
        transcriptFile: opts.transcript,
        pkiOnly: opts.pkiOnly,
        force: opts.force,
        timeoutMs: opts.timeout,
        log: say,
      });
      if (!result) {
        if (opts.json) console.log(JSON.stringify({ state: resolve(opts.state), pki: join(resolve(opts.state), 'tls') }));
        return;
      }
      if (opts.json) {
        console.log(
          JSON.stringify({
            ceremony: result.ceremony,
            transcript_hash: result.transcript_hash,
            group_public_key: result.group.group_public_key,
            threshold: result.group.threshold,
            signers: result.signers.map((s) => ({ name: s.name, identifier: s.identifier, verifying_share: s.verifying_share, sealed: s.sealed })),
            group: join(resolve(opts.state), 'group.json'),
          }),
        );
      }
    });

  signerParentCommand(program)
    .command('dkg-serve')
    .description('run signer <i> for a DKG ceremony (it has no share yet): serves /v1/dkg/* over mTLS and seals the share it ends up with at <state>/signers/<i>/share.sealed')
    .requiredOption('--state <dir>', 'state directory (tls/signer-<i>.pem, -key.pem and ca.pem are read)')
    .requiredOption('--index <i>', 'which signer (1-based)', integer)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .addOption(new Option('--port <port>', 'listen port (0: any)').argParser(integer).default(0))
    .option('--allow-client <cn>', 'client certificate CN allowed to call (repeatable; default coordinator)', collect, [])
    .addOption(new Option('--expect-signers <n>', 'refuse ceremonies with another number of signers').argParser(integer))
    .addOption(new Option('--expect-threshold <t>', 'refuse ceremonies with another threshold').argParser(integer))
    .option('--replace', 'replace an existing share.sealed when the ceremony completes', false)
    .option('--exit-when-done', 'exit (status 0) once the share is sealed', false)
    .addOption(new Option('--seal-to <provider>', 'key provider that seals the share').choices(['file', 'pkcs11', 'oci-kms']).default('file'))
    .option('--key-file <path>', 'file: the 32-byte key file (default: seal.key beside the sealed share; created 0600 if missing)')
    .addOption(new Option('--mode <mode>', 'pkcs11: AES-GCM data key (default) or ECDH P-256').choices(['aes-gcm', 'ecdh-p256']))
    .option('--module <path>', `pkcs11: PKCS#11 module (default: $${MODULE_ENV})`)
    .option('--token-label <label>', 'pkcs11: token label')
    .addOption(new Option('--slot <id>', 'pkcs11: slot ID').argParser(integer))
    .option('--key-label <label>', 'pkcs11: CKA_LABEL of the key')
    .option('--key-id <hex>', 'pkcs11: CKA_ID of the key, hex')
    .option('--kms-key <ocid>', 'oci-kms: OCID of the Vault master encryption key')
    .option('--crypto-endpoint <url>', "oci-kms: the vault's crypto endpoint")
    .action(async (opts) => {
      const state = resolve(opts.state);
      const sharePath = join(state, 'signers', String(opts.index), 'share.sealed');
      let sealTarget;
      try {
        sealTarget = targetFromOptions({ ...opts, to: opts.sealTo }, sharePath);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message.replace(/--to\b/g, '--seal-to'));
      }
      const { app, url, name, done } = await startDkgSigner({
        state,
        index: opts.index,
        host: opts.host,
        port: opts.port,
        allowedClients: opts.allowClient,
        sealTarget,
        expect: { threshold: opts.expectThreshold, signers: opts.expectSigners },
        replace: opts.replace,
      });
      const stop = () => void app.close().finally(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      if (opts.exitWhenDone) {
        // Let the finalize response leave first; close() waits for requests in flight.
        void done.then(() => setTimeout(stop, 50));
      }
      console.log(JSON.stringify({ ready: true, url, pid: process.pid, signer: name, identifier: identifierFromIndex(opts.index), mode: 'dkg' }));
    });
}
