// `ztmint pki`: the mTLS certificates' lifecycle (docs/pki.md).
//
//   ztmint pki init --state DIR --seal-to pkcs11 … [--signers N]   a CA whose key a key provider seals
//   ztmint pki init --state DIR --external-ca --ca-bundle FILE       certificates come from your own CA
//   ztmint pki issue --state DIR --name admin --client [--san …]     one certificate, validity and SANs chosen
//   ztmint pki renew --state DIR [--within 21]                       re-issue what expires soon, atomically
//   ztmint pki rollover --state DIR                                  a new CA, added to the trust bundle first
//   ztmint pki status --state DIR [--json]                           expiry of every certificate, warnings < 14 days
//
// `--state` defaults to ZTMINT_STATE; the dev stack (`ztmint dev --state DIR`) keeps its CA key
// sealed with the file provider, so every command works on a running dev stack's directory; there
// `pki status` also shows which certificate each running signer serves (from <state>/dev-stack.json).
import { type Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODULE_ENV } from '../signers/key-providers/index.js';
import { initCa, initExternalCa, loadCa, rolloverCa } from '../pki/ca.js';
import { parseSan, type CertRole } from '../pki/certificates.js';
import { PkiError } from '../pki/errors.js';
import { issueCertificate } from '../pki/issue.js';
import { pkiPaths } from '../pki/layout.js';
import { profileOf, standardNames } from '../pki/profiles.js';
import { renewCertificates } from '../pki/renew.js';
import { servedCertificate, type Served } from '../pki/served.js';
import { formatStatus, pkiStatus, withServed } from '../pki/status.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';
import { targetFromOptions } from './seal-commands.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function stateOption(cmd: Command): Command {
  return cmd.option('--state <dir>', 'state directory (default: $ZTMINT_STATE)').option('--json', 'print one JSON object', false);
}

/** The key-provider options of `signer reseal`, for sealing the CA key. */
function sealOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--seal-to <provider>', 'key provider that seals the CA key').choices(['file', 'pkcs11', 'oci-kms']))
    .option('--insecure-allow-file-key-provider', 'allow --seal-to file outside the dev stack (the key file lies beside the sealed CA key)', false)
    .option('--key-file <path>', 'file: the 32-byte key file (default <state>/pki/seal.key)')
    .addOption(new Option('--mode <mode>', 'pkcs11: AES-GCM data key (default) or ECDH P-256 (YubiKey PIV)').choices(['aes-gcm', 'ecdh-p256']))
    .option('--module <path>', `pkcs11: PKCS#11 module (default: $${MODULE_ENV})`)
    .option('--token-label <label>', 'pkcs11: token label')
    .addOption(new Option('--slot <id>', 'pkcs11: slot ID').argParser((v) => Number(v)))
    .option('--key-label <label>', 'pkcs11: CKA_LABEL of the key')
    .option('--key-id <hex>', 'pkcs11: CKA_ID of the key, hex')
    .option('--kms-key <ocid>', 'oci-kms: OCID of the Vault master encryption key')
    .option('--crypto-endpoint <url>', "oci-kms: the vault's crypto endpoint");
}

const warn = (line: string) => console.error(line);

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

async function signerCount(state: string, given?: number): Promise<number | undefined> {
  if (given !== undefined) return given;
  const group = join(state, 'group.json');
  return existsSync(group) ? (JSON.parse(await readFile(group, 'utf8')) as { signers: number }).signers : undefined;
}

/** With a running dev stack in `state` (its dev-stack.json): what each signer serves now. */
async function servedByDevStack(state: string): Promise<Map<string, Served>> {
  let stack;
  try {
    stack = readDevStackFile(state);
  } catch {
    return new Map(); // no running stack: the files alone
  }
  const client = { cert: stack.tls.client_cert, key: stack.tls.client_key, ca: stack.tls.ca };
  const served = await Promise.all(stack.signers.map(async (s) => [`signer-${s.index}`, await servedCertificate(s.url, `signer-${s.index}`, client)] as const));
  return new Map(served);
}

export function registerPkiCommands(program: Command): void {
  const pki = program.command('pki').description('mTLS certificates: CA, issue, renew, rollover, status (docs/pki.md)');

  sealOptions(stateOption(pki.command('init').description('create the CA (key sealed by a key provider) or record an external one; with --signers, issue the standard certificates')))
    .addOption(new Option('--ca-days <n>', 'CA validity in days').argParser(positive).default(365))
    .addOption(new Option('--days <n>', 'validity of the certificates issued with --signers').argParser(positive).default(30))
    .addOption(new Option('--signers <n>', 'also issue coordinator, admin and signer-1..n (default: n of group.json when present)').argParser(positive))
    .option('--external-ca', 'bring your own CA (or cert-manager): ztmint keeps no CA key; needs --ca-bundle', false)
    .option('--ca-bundle <file>', '--external-ca: the PEM bundle of the CAs to trust')
    .option('--force', 'replace an existing CA (every certificate it issued stops being trusted)', false)
    .action(async (opts) => {
      const state = stateDirFrom(opts);
      if (opts.externalCa) {
        if (!opts.caBundle) throw new InvalidArgumentError('--external-ca needs --ca-bundle FILE');
        if (opts.sealTo) throw new InvalidArgumentError('--external-ca keeps no CA key: drop --seal-to');
        const count = await initExternalCa(state, await readFile(opts.caBundle, 'utf8'));
        print(
          opts.json,
          { state, ca: 'external', bundle: pkiPaths(state).bundle, cas: count },
          `trust bundle ${pkiPaths(state).bundle} (${count} CA); issue certificates with your CA (names in docs/pki.md), check them with \`ztmint pki status\``,
        );
        return;
      }
      if (!opts.sealTo) throw new InvalidArgumentError('give --seal-to pkcs11 or oci-kms (where the CA key is sealed), or --external-ca');
      const target = targetFromOptions({ ...opts, to: opts.sealTo }, pkiPaths(state).caKey);
      const ca = await initCa(state, { days: opts.caDays, target, allowFileProvider: opts.insecureAllowFileKeyProvider, warn, force: opts.force });
      const n = await signerCount(state, opts.signers);
      const issued = [];
      for (const name of n ? standardNames(n) : []) issued.push(await issueCertificate(state, ca, { name, days: opts.days }));
      print(
        opts.json,
        { state, ca: ca.cert.subject, not_after: ca.cert.notAfter.toISOString(), sealed_with: target.type, issued },
        [
          `CA ${ca.cert.subject} until ${ca.cert.notAfter.toISOString()}, key sealed with ${target.type} in ${pkiPaths(state).caKey}`,
          ...issued.map((i) => `issued ${i.name} (${i.role}) until ${i.not_after}`),
        ].join('\n'),
      );
    });

  stateOption(pki.command('issue').description('issue (or replace) one certificate from the CA: tls/<name>.pem and tls/<name>-key.pem'))
    .requiredOption('--name <name>', 'the CN: coordinator, admin, signer-<i>, or another name with --server/--client')
    .option('--server', 'serverAuth (default from the name)')
    .option('--client', 'clientAuth (default from the name)')
    .option('--san <name>', 'extra subject alternative name: dns:HOST, ip:ADDR or a bare name/address (repeatable)', collect)
    .option('--only-sans', 'only the --san names, not the defaults (name, localhost, 127.0.0.1, ::1)', false)
    .addOption(new Option('--days <n>', 'validity in days').argParser(positive).default(30))
    .action(async (opts) => {
      const state = stateDirFrom(opts);
      const role: CertRole | undefined = opts.server && opts.client ? 'both' : opts.server ? 'server' : opts.client ? 'client' : undefined;
      let sans;
      try {
        sans = ((opts.san as string[] | undefined) ?? []).map(parseSan);
      } catch (err) {
        throw new PkiError('pki_invalid_request', (err as Error).message);
      }
      if (role && profileOf(opts.name) && profileOf(opts.name)!.role !== role && !(profileOf(opts.name)!.role === 'both')) {
        warn(`note: ${opts.name} is normally ${profileOf(opts.name)!.role}; issuing ${role} as asked`);
      }
      const ca = await loadCa(state);
      const out = await issueCertificate(state, ca, { name: opts.name, ...(role ? { role } : {}), days: opts.days, sans, onlySans: opts.onlySans });
      print(opts.json, out, `issued ${out.name} (${out.role}) until ${out.not_after}: ${out.cert}`);
    });

  stateOption(pki.command('renew').description('re-issue the certificates that expire within --within days or come from an older CA; files replaced atomically, processes reload them'))
    .addOption(new Option('--within <days>', 'renew what expires within this many days').argParser(positive).default(21))
    .option('--name <name>', 'only this certificate (repeatable)', collect)
    .option('--force', 'renew even what is not due', false)
    .addOption(new Option('--days <n>', 'new validity (default: the old certificate’s)').argParser(positive))
    .action(async (opts) => {
      const state = stateDirFrom(opts);
      const out = await renewCertificates(state, {
        withinDays: opts.within,
        force: opts.force,
        ...(opts.name ? { names: opts.name as string[] } : {}),
        ...(opts.days ? { days: opts.days as number } : {}),
        ...(opts.json ? {} : { log: (l: string) => console.log(l) }),
      });
      if (opts.json) console.log(JSON.stringify(out));
      else if (!out.renewed.length) console.log(`nothing to renew: every certificate is valid for more than ${opts.within} days`);
    });

  stateOption(pki.command('rollover').description('create a new CA and add it to the trust bundle; once every process has reloaded it, `pki renew` moves the certificates to it'))
    .addOption(new Option('--ca-days <n>', 'validity of the new CA in days').argParser(positive).default(365))
    .action(async (opts) => {
      const state = stateDirFrom(opts);
      const out = await rolloverCa(state, { days: opts.caDays, warn });
      print(
        opts.json,
        { state, previous: out.previous.subject, next: out.next.subject, not_after: out.next.notAfter.toISOString(), bundle_cas: out.bundle },
        `new CA ${out.next.subject} added to ${pkiPaths(state).bundle} (${out.bundle} CAs). Wait until every process has reloaded the bundle (1 s polls; a mounted Kubernetes Secret can take a minute), then run \`ztmint pki renew --state ${state}\`.`,
      );
    });

  stateOption(pki.command('status').description('every certificate with its expiry; warns from 14 days before notAfter; exit 1 if one has expired')).action(async (opts) => {
    const state = stateDirFrom(opts);
    const status = withServed(await pkiStatus(state), await servedByDevStack(state));
    print(opts.json, status, formatStatus(status));
    if (status.certificates.some((c) => c.state === 'expired')) process.exitCode = 1;
  });
}
