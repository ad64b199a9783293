// `ztmint signer reseal` (alias `seal`) and `ztmint signer inspect`: move a signer's sealed key
// share between key providers (file, pkcs11, oci-kms) and check that it unseals. They are
// subcommands of `ztmint signer`, which still runs a signer when no subcommand is given:
//
//   ztmint signer --state DIR --index 1                        run signer 1
//   ztmint signer reseal --state DIR --index 1 --to pkcs11 …   re-wrap its share under a token key
//   ztmint signer inspect --state DIR --index 1 [--check]      show (and try) its provider
//
// Wire-up in cli/main.ts, after the `signer` command is defined: registerSealCommands(program).
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { MODULE_ENV, SealError, type SealTarget } from '../signers/key-providers/index.js';
import { keyFilePath } from '../signers/key-providers/file.js';
import { checkUnseal, describeSealedShare, readSealedShare, resealShare, type UnsealedShare } from '../signers/sealed-share.js';
import { signerParentCommand } from './signer-subcommands.js';

interface Where {
  state?: string;
  index?: number;
  share?: string;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** The sealed share a command works on: `--share FILE`, or `--state DIR --index I`. */
function sharePath(opts: Where): string {
  if (opts.share) {
    if (opts.state !== undefined || opts.index !== undefined) throw new InvalidArgumentError('give either --share or --state with --index, not both');
    return resolve(opts.share);
  }
  if (opts.state === undefined || opts.index === undefined) throw new InvalidArgumentError('give --state DIR --index I, or --share FILE');
  return resolve(opts.state, 'signers', String(opts.index), 'share.sealed');
}

function whereOptions(cmd: Command): Command {
  return cmd
    .option('--state <dir>', 'state directory (with --index): the share is <state>/signers/<i>/share.sealed')
    .addOption(new Option('--index <i>', 'which signer (1-based)').argParser(integer))
    .option('--share <file>', 'a sealed share file (instead of --state/--index)');
}

const PROVIDER_OPTIONS: Record<string, string[]> = {
  file: ['keyFile'],
  pkcs11: ['mode', 'module', 'tokenLabel', 'slot', 'keyLabel', 'keyId'],
  'oci-kms': ['kmsKey', 'cryptoEndpoint'],
};
const FLAG: Record<string, string> = {
  keyFile: '--key-file',
  mode: '--mode',
  module: '--module',
  tokenLabel: '--token-label',
  slot: '--slot',
  keyLabel: '--key-label',
  keyId: '--key-id',
  kmsKey: '--kms-key',
  cryptoEndpoint: '--crypto-endpoint',
};

/** Builds the seal target from `reseal`'s options; options of another provider are an error. */
export function targetFromOptions(opts: Record<string, unknown>, outPath: string, env: NodeJS.ProcessEnv = process.env): SealTarget {
  const to = String(opts.to);
  const allowed = PROVIDER_OPTIONS[to];
  if (!allowed) throw new InvalidArgumentError(`unknown provider ${to} (file, pkcs11, oci-kms)`);
  for (const [name, flag] of Object.entries(FLAG)) {
    if (opts[name] !== undefined && !allowed.includes(name)) {
      throw new InvalidArgumentError(`${flag} does not apply to --to ${to}`);
    }
  }
  switch (to) {
    case 'file':
      return { type: 'file', keyFile: resolve((opts.keyFile as string | undefined) ?? join(dirname(outPath), 'seal.key')) };
    case 'pkcs11': {
      const module = (opts.module as string | undefined) ?? env[MODULE_ENV];
      if (!module) throw new InvalidArgumentError(`--to pkcs11 needs --module (or ${MODULE_ENV})`);
      const target: SealTarget = { type: 'pkcs11', mode: (opts.mode as 'aes-gcm' | 'ecdh-p256') ?? 'aes-gcm', module };
      if (opts.tokenLabel !== undefined) target.tokenLabel = opts.tokenLabel as string;
      if (opts.slot !== undefined) target.slot = opts.slot as number;
      if (opts.keyLabel !== undefined) target.keyLabel = opts.keyLabel as string;
      if (opts.keyId !== undefined) target.keyId = opts.keyId as string;
      return target;
    }
    default: {
      if (!opts.kmsKey || !opts.cryptoEndpoint) throw new InvalidArgumentError('--to oci-kms needs --kms-key <key OCID> and --crypto-endpoint <url>');
      return { type: 'oci-kms', keyId: opts.kmsKey as string, cryptoEndpoint: opts.cryptoEndpoint as string };
    }
  }
}

/** Checks an unsealed share against group.json: known identifier, same group key, matching verifying share. */
export function verifyAgainstGroup(share: UnsealedShare, group: GroupInfo): void {
  if (share.groupPublicKey !== group.group_public_key) throw new SealError('wrong_key', 'the share belongs to another key set than group.json');
  const expected = group.verifying_shares[share.identifier];
  if (!expected) throw new SealError('wrong_key', `identifier ${share.identifier} is not in group.json`);
  const scalar = bytesToNumberLE(share.signingShare);
  const actual = b64url(ed25519.Point.BASE.multiply(scalar).toBytes());
  if (actual !== expected) throw new SealError('wrong_key', `the unsealed share does not match the verifying share in group.json`);
}

async function readGroup(state: string | undefined): Promise<GroupInfo | undefined> {
  if (state === undefined) return undefined;
  return JSON.parse(await readFile(join(resolve(state), 'group.json'), 'utf8')) as GroupInfo;
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

function describeProvider(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => (k === 'type' ? String(v) : `${k}=${String(v)}`))
    .join(' ');
}

/**
 * Adds `reseal` (alias `seal`) and `inspect` under the `signer` command. Accepts the `signer`
 * command itself or the program (whose existing `signer` command is used, or created).
 */
export function registerSealCommands(signerCommandOrProgram: Command): Command {
  const signer = signerParentCommand(signerCommandOrProgram);

  const reseal = whereOptions(signer.command('reseal').alias('seal').description("seal a signer's key share under another key provider (unseal, seal, unseal again to verify, replace atomically)"))
    .addOption(new Option('--to <provider>', 'key provider to seal under').choices(['file', 'pkcs11', 'oci-kms']).makeOptionMandatory())
    .option('--out <file>', 'write here instead of replacing the sealed share in place')
    .option('--key-file <path>', 'file: the 32-byte key file (default: seal.key beside the sealed share; created 0600 if missing)')
    .addOption(new Option('--mode <mode>', 'pkcs11: AES-GCM data key (default) or ECDH P-256 (YubiKey PIV)').choices(['aes-gcm', 'ecdh-p256']))
    .option('--module <path>', `pkcs11: PKCS#11 module (default: $${MODULE_ENV})`)
    .option('--token-label <label>', 'pkcs11: token label')
    .addOption(new Option('--slot <id>', 'pkcs11: slot ID (instead of or with --token-label)').argParser(integer))
    .option('--key-label <label>', 'pkcs11: CKA_LABEL of the AES key (aes-gcm) or P-256 private key (ecdh-p256)')
    .option('--key-id <hex>', 'pkcs11: CKA_ID of the key, hex (ykcs11: 01 = 9a, 02 = 9c, 03 = 9d, 04 = 9e)')
    .option('--kms-key <ocid>', 'oci-kms: OCID of the Vault master encryption key')
    .option('--crypto-endpoint <url>', "oci-kms: the vault's crypto endpoint (https://…-crypto.kms.<region>.oraclecloud.com)")
    .option('--remove-old-key-file', 'after moving away from the file provider, delete the old key file', false)
    .option('--json', 'print one JSON line', false)
    .action(async (opts) => {
      const inPath = sharePath(opts);
      const outPath = opts.out ? resolve(opts.out) : inPath;
      const before = await readSealedShare(inPath);
      const oldKeyFile = before.version === 1 ? join(dirname(inPath), 'seal.key') : before.provider.type === 'file' ? keyFilePath(before.provider, inPath) : undefined;
      const to = targetFromOptions(opts, outPath);
      const result = await resealShare(inPath, to, { outPath });
      let removed: string | undefined;
      if (opts.removeOldKeyFile && oldKeyFile && !(to.type === 'file' && resolve(to.keyFile) === oldKeyFile)) {
        await rm(oldKeyFile, { force: true });
        removed = oldKeyFile;
      }
      const note = oldKeyFile && !removed && to.type !== 'file' ? `\nthe old key file ${oldKeyFile} is no longer needed: delete it (or pass --remove-old-key-file)` : '';
      print(
        opts.json,
        { ...result, removed_key_file: removed ?? null },
        `resealed ${result.path} (identifier ${result.identifier})\n  from ${describeProvider(result.from)}\n  to   ${describeProvider(result.to)}${removed ? `\nremoved ${removed}` : ''}${note}`,
      );
    });

  whereOptions(signer.command('inspect').description("show which key provider seals a signer's share (no secret needed); --check also unseals it"))
    .option('--check', 'unseal (needs the PIN / credentials) and, with --state, compare with group.json; the share is zeroed at once', false)
    .option('--json', 'print one JSON line', false)
    .action(async (opts) => {
      const path = sharePath(opts);
      const info = describeSealedShare(await readSealedShare(path));
      let checked: boolean | undefined;
      if (opts.check) {
        const group = await readGroup(opts.state);
        await checkUnseal(path, {}, group ? (share) => verifyAgainstGroup(share, group) : undefined);
        checked = true;
      }
      print(
        opts.json,
        { path, ...info, ...(checked ? { unseal: 'ok' } : {}) },
        `${path}\n  version ${info.version}, identifier ${info.identifier}\n  provider ${describeProvider(info.provider)}${checked ? `\n  unseals: ok${opts.state ? ' (matches group.json)' : ''}` : ''}`,
      );
    });

  return reseal;
}
