// `ztmint policy keygen | bundle | verify | revisions`: signed OPA bundles and staged rollouts. With
// --state DIR (or ZTMINT_STATE) they default to the dev stack's policy-admin key, bundle directory
// and revisions file (<state>/dev-stack.json, else <state>/policy/).
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isZtmintError } from '../errors/ztmint-error.js';
import { parseRevisions } from '../policy-engine/bundle-set.js';
import { loadAdminKey } from '../policy-engine/bundle-signature.js';
import { readPolicyBundle } from '../policy-engine/bundle.js';
import { bundlePolicyFiles, writeAdminKeyPair, writeFileAtomically } from './dev-policy.js';
import { devPolicyPaths, readDevStackFile, stateDirFrom, type DevPolicyPaths } from './dev-stack-file.js';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from './paths.js';

/** The dev stack's policy paths when --state or ZTMINT_STATE is given, else undefined. */
function devPaths(opts: { state?: string }): DevPolicyPaths | undefined {
  if (!opts.state && !process.env.ZTMINT_STATE) return undefined;
  const state = stateDirFrom(opts);
  try {
    return readDevStackFile(state).policy ?? devPolicyPaths(state);
  } catch (err) {
    if (isZtmintError(err, 'dev_stack_not_running')) return devPolicyPaths(state);
    throw err;
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what}, or --state DIR of a dev stack`);
  return value;
}

export function registerPolicyBundleCommands(policy: Command): void {
  policy
    .command('keygen')
    .description('make a policy-admin key pair (EC P-256, ES256) for signing bundles')
    .option('--private-key <file>', 'where the private key goes (0600; keep it off signer and coordinator hosts)')
    .option('--public-key <file>', 'where the public key goes (give it to services as --policy-admin-key)')
    .option('--state <dir>', 'dev stack state directory: <state>/policy/admin-key.pem and admin.pub.pem')
    .action(async (opts: { privateKey?: string; publicKey?: string; state?: string }) => {
      const dev = devPaths(opts);
      const priv = resolve(need(opts.privateKey ?? dev?.admin_key, 'give --private-key FILE'));
      const pub = resolve(need(opts.publicKey ?? dev?.admin_public_key, 'give --public-key FILE'));
      await writeAdminKeyPair(priv, pub);
      console.log(JSON.stringify({ private_key: priv, public_key: pub, alg: 'ES256' }));
    });
  policy
    .command('bundle')
    .description('build and sign an OPA bundle (policy.wasm, data.json, .manifest, .signatures.json) that OPA and ztmint both verify')
    .option('--revision <rev>', "the bundle's revision, the pol claim of tokens it allows (default: the policy hash)")
    .option('--policy-wasm <file>', 'compiled policy', DEFAULT_POLICY_WASM)
    .option('--policy-data <file>', 'policy data', DEFAULT_POLICY_DATA)
    .option('--signing-key <file>', 'policy-admin private key (PEM)')
    .option('--key-id <id>', 'key id written into the signature (OPA verifies with --verification-key-id, default "default")')
    .option('--out <file>', 'bundle file (default: <bundle dir>/<revision>.tar.gz with --state)')
    .option('--state <dir>', 'dev stack state directory: sign with its admin key into its bundle directory')
    .action(async (opts: { revision?: string; policyWasm: string; policyData: string; signingKey?: string; keyId?: string; out?: string; state?: string }) => {
      const dev = devPaths(opts);
      const result = await bundlePolicyFiles({
        wasm: resolve(opts.policyWasm),
        data: resolve(opts.policyData),
        signingKey: resolve(need(opts.signingKey ?? dev?.admin_key, 'give --signing-key FILE')),
        ...(opts.revision ? { revision: opts.revision } : {}),
        ...(opts.keyId ? { keyId: opts.keyId } : {}),
        ...(opts.out ? { out: resolve(opts.out) } : { bundleDir: need(dev?.bundle_dir, 'give --out FILE') }),
      });
      console.log(JSON.stringify(result));
    });
  policy
    .command('verify')
    .description('verify signed bundles against policy-admin public keys, as signers and coordinator do')
    .argument('<bundle...>', 'bundle files (.tar.gz)')
    .option('--admin-key <file>', 'policy-admin public key (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--state <dir>', 'dev stack state directory: verify with its admin key')
    .action(async (files: string[], opts: { adminKey?: string[]; state?: string }) => {
      const dev = devPaths(opts);
      const keyFiles = opts.adminKey ?? (dev ? [dev.admin_public_key] : undefined);
      const keys = await Promise.all(need(keyFiles, 'give --admin-key FILE').map((k) => loadAdminKey(resolve(k))));
      for (const file of files) {
        try {
          const v = await readPolicyBundle(await readFile(resolve(file)), keys);
          console.log(JSON.stringify({ file, ok: true, revision: v.policy.revision, policy: v.policy.hash, signed_by: v.signedBy, ...(v.keyId ? { key_id: v.keyId } : {}) }));
        } catch (err) {
          console.log(JSON.stringify({ file, ok: false, code: isZtmintError(err) ? err.code : 'bundle_unreadable', error: (err as Error).message }));
          process.exitCode = 1;
        }
      }
    });
  policy
    .command('revisions')
    .description('print, or with revisions given replace, the revisions file (one a line, in order of preference)')
    .argument('[revision...]', 'the revisions to accept; the coordinator mints with the first it holds')
    .option('--file <file>', 'revisions file')
    .option('--state <dir>', 'dev stack state directory: its revisions file')
    .action(async (revisions: string[], opts: { file?: string; state?: string }) => {
      const file = resolve(need(opts.file ?? devPaths(opts)?.revisions_file, 'give --file FILE'));
      if (revisions.length) {
        const checked = parseRevisions(revisions.join('\n'), 'arguments');
        await writeFileAtomically(file, `# policy revisions accepted, in order of preference\n${checked.join('\n')}\n`);
      }
      console.log(JSON.stringify({ file, revisions: parseRevisions(await readFile(file, 'utf8'), file) }));
    });
}
