// `ztmint dev`: local OIDC issuer + n signer processes + coordinator process(es), on loopback, with
// a local CA for mTLS. Prints a JSON ready line (--json) or runs a demo mint. With a PostgreSQL
// store, --coordinators N starts N replicas sharing it (and one public URL, as behind a balancer).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { demoMint } from './demo-mint.js';
import { prepareDevPolicy, watchDevPolicyData } from './dev-policy.js';
import { devTlsPaths, removeDevStackFile, writeDevStackFile } from './dev-stack-file.js';
import { startDevIssuer } from './dev-issuer.js';
import { addDevSigners } from './dev-signers.js';
import { keygen } from './keygen.js';
import { DEFAULT_POLICY_DATA, DEFAULT_POLICY_WASM } from './paths.js';
import { freePort, spawnService, type Service } from './processes.js';
import { isPostgresUrl } from '../coordinator/store/open-store.js';

export interface DevOptions {
  /** Benchmarks only: the coordinator signs no checkpoints and answers mints without a proof. */
  insecureNoTransparencyProofs?: boolean;
  state?: string;
  signers: number;
  threshold: number;
  policyData?: string;
  json: boolean;
  once: boolean;
  /** Passed to the coordinator as --rate-repository / --rate-sub (e.g. "600/min,120"). */
  rateRepository?: string;
  rateSub?: string;
  /** Passed to every signer (--snp-source file): SEV-SNP evidence served in /v1/info. */
  snpReport?: string;
  snpVcek?: string;
  /** The coordinators' state store: "file" (default) or a postgres:// URL. */
  store?: string;
  /** Coordinator replicas (more than one needs a PostgreSQL store). */
  coordinators?: number;
}

export async function runDevStack(opts: DevOptions, out = process.stdout, err = process.stderr): Promise<void> {
  const say = (line: string) => {
    if (!opts.json) out.write(`${line}\n`);
  };
  const state = resolve(opts.state ?? (await mkdtemp(join(tmpdir(), 'ztmint-dev-'))));
  let signerCount = opts.signers;
  if (!existsSync(join(state, 'group.json'))) {
    say(`• dealing a ${opts.threshold}-of-${opts.signers} FROST key set into ${state} (dev only: trusted dealer)`);
    await keygen({ state, signers: opts.signers, threshold: opts.threshold, log: (l) => say(`  ${l}`) });
  } else {
    // An existing state: every signer it has (a lost share starts share-less, awaiting a repair),
    // and with --signers above that, new members (certificates, folders) awaiting a reshare.
    const group = JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as { signers: number };
    signerCount = await addDevSigners(state, Math.max(opts.signers, group.signers), (l) => say(`  ${l}`));
  }

  const host = '127.0.0.1';
  const replicas = coordinatorReplicas(opts);
  const coordinatorPorts: number[] = [];
  for (let i = 0; i < replicas; i++) coordinatorPorts.push(await freePort(host));
  const adminPorts: number[] = [];
  for (let i = 0; i < replicas; i++) adminPorts.push(await freePort(host));
  // Resource servers (and tests) introspect with this bearer token; a new one for every start.
  const introspectionTokenFile = join(state, 'introspection-token');
  await writeFile(introspectionTokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  // The first replica's URL is the public one: the issuer of every token and the OIDC audience.
  const coordinatorUrl = `http://${host}:${coordinatorPorts[0]}`;
  const issuer = await startDevIssuer({ host, audience: () => coordinatorUrl });
  say(`• OIDC issuer (GitHub-like) at ${issuer.url}`);

  const policyData = resolve(opts.policyData ?? DEFAULT_POLICY_DATA);
  // Every service runs on a signed bundle of the policy, as in production (staged rollouts).
  const policy = await prepareDevPolicy(state, DEFAULT_POLICY_WASM, policyData);
  say(`• policy revision ${policy.revision}, signed bundle in ${policy.bundle_dir}`);
  const policyArgs = ['--policy-bundle-dir', policy.bundle_dir, '--policy-admin-key', policy.admin_public_key, '--policy-revisions-file', policy.revisions_file];
  const services: Service[] = [];
  let stopPolicyWatch = () => {};
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    stopPolicyWatch();
    for (const s of services) s.child.kill('SIGTERM');
    await removeDevStackFile(state);
    await issuer.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  try {
    // allSettled, so that signers which did start are stopped too when another one fails.
    const started = await Promise.allSettled(
      Array.from({ length: signerCount }, (_, i) =>
        spawnService(
          [
            'signer',
            '--state',
            state,
            '--index',
            String(i + 1),
            '--host',
            host,
            '--port',
            '0',
            '--token-issuer',
            coordinatorUrl,
            '--oidc-issuer',
            issuer.url,
            '--oidc-audience',
            coordinatorUrl,
            ...policyArgs,
            // Dev only, on purpose: a plain-HTTP loopback issuer and dealt shares sealed with the file provider.
            '--insecure-allow-http-issuer',
            '--insecure-allow-file-key-provider',
            // The operator's certificate reads the signers' share logs (`ztmint audit cross-check`).
            '--log-client',
            'admin',
            ...(opts.snpReport && opts.snpVcek ? ['--snp-source', 'file', '--snp-report', resolve(opts.snpReport), '--snp-vcek', resolve(opts.snpVcek)] : []),
          ],
          `signer-${i + 1}`,
        ),
      ),
    );
    const signerServices = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    services.push(...signerServices);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [i, s] of signerServices.entries()) say(`• signer-${i + 1} (pid ${s.ready.pid}) at ${s.ready.url}`);

    const coordinatorArgs = (port: number, adminPort: number) => [
      'coordinator',
      '--state',
      state,
      '--host',
      host,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--introspection-token-file',
      introspectionTokenFile,
      '--oidc-issuer',
      issuer.url,
      '--oidc-audience',
      coordinatorUrl,
      ...policyArgs,
      // The data the bundle was built from: key rotation reads its ttl.max (the shortest overlap).
      '--policy-data',
      policyData,
      '--insecure-allow-http-issuer', // the dev issuer is plain HTTP on loopback
      ...signerServices.flatMap((s, i) => ['--signer', `signer-${i + 1}=${s.ready.url}`]),
      ...(opts.rateRepository ? ['--rate-repository', opts.rateRepository] : []),
      ...(opts.rateSub ? ['--rate-sub', opts.rateSub] : []),
      ...(opts.insecureNoTransparencyProofs ? ['--insecure-no-transparency-proofs'] : []),
      ...(opts.store ? ['--store', opts.store] : []),
      ...(replicas > 1 ? ['--public-url', coordinatorUrl] : []),
      // The admin API (mTLS, tls/admin.pem) for operator commands such as `ztmint keys`.
      '--admin-port',
      '0',
    ];
    const coordinators = await Promise.allSettled(coordinatorPorts.map((port, i) => spawnService(coordinatorArgs(port, adminPorts[i]!), replicas > 1 ? `coordinator-${i + 1}` : 'coordinator')));
    const coordinatorServices = coordinators.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    services.push(...coordinatorServices);
    const failedCoordinator = coordinators.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failedCoordinator) throw failedCoordinator.reason;
    for (const c of coordinatorServices) say(`• coordinator (pid ${c.ready.pid}) at ${c.ready.url}`);
    for (const s of services) {
      s.child.once('exit', (code, signal) => {
        if (!stopping) err.write(`ztmint dev: process ${s.ready.pid} exited (${signal ?? `code ${code}`})\n`);
      });
    }

    stopPolicyWatch = watchDevPolicyData({
      state,
      wasm: DEFAULT_POLICY_WASM,
      data: policyData,
      paths: policy,
      revision: policy.revision,
      signerUrls: signerServices.map((s) => s.ready.url),
      coordinatorUrl,
      log: (line) => err.write(`ztmint dev: ${line}\n`),
    });
    await writeDevStackFile({
      version: 1,
      state,
      issuer: issuer.url,
      coordinator: {
        url: coordinatorUrl,
        replicas: coordinatorServices.map((c) => c.ready.url),
        pids: coordinatorServices.map((c) => c.ready.pid),
        admin: coordinatorServices.map((c) => String(c.ready.admin)),
      },
      signers: signerServices.map((s, i) => ({ index: i + 1, url: s.ready.url, pid: s.ready.pid })),
      tls: devTlsPaths(state),
      introspection_token_file: introspectionTokenFile,
      policy: { admin_key: policy.admin_key, admin_public_key: policy.admin_public_key, bundle_dir: policy.bundle_dir, revisions_file: policy.revisions_file },
    });

    if (opts.json) {
      out.write(
        JSON.stringify({
          coordinator: coordinatorUrl,
          coordinators: coordinatorServices.map((c) => c.ready.url),
          coordinator_pids: coordinatorServices.map((c) => c.ready.pid),
          admin: coordinatorServices.map((c) => c.ready.admin),
          introspection_token_file: introspectionTokenFile,
          issuer: issuer.url,
          jwks: `${coordinatorUrl}/.well-known/jwks.json`,
          signers: signerServices.map((s, i) => ({ id: i + 1, url: s.ready.url, pid: s.ready.pid })),
          state,
          id_token_request_url: issuer.requestUrl,
          id_token_request_token: issuer.requestToken,
        }) + '\n',
      );
      return;
    }

    say('• demo mint: runner ID token → POST /v1/mint {"scopes":["deploy:canary"]}');
    const demo = await demoMint({ coordinator: coordinatorUrl, requestUrl: issuer.requestUrl, requestToken: issuer.requestToken });
    say(`  granted ${JSON.stringify(demo.response.scopes)} until ${String(demo.response.expires_at)} (audit #${JSON.stringify((demo.response.audit as { index: number }).index)})`);
    const proof = demo.response.transparency as { log_index: number; checkpoint: string } | undefined;
    if (proof) say(`  logged: leaf ${proof.log_index} of the checkpoint "${proof.checkpoint.split('\n', 2).join(' ')}" signed by the quorum (${coordinatorUrl}/tlog/)`);
    say(`  token sha256 ${demo.tokenSha256} verifies with jose against ${coordinatorUrl}/.well-known/jwks.json`);
    say(`  claims: ${JSON.stringify(demo.claims, null, 2).replace(/\n/g, '\n  ')}`);
    if (opts.once) return stop(0);
    say(`\nRunning. Mint your own: curl -s ${issuer.url}/token -d '{}' -H 'content-type: application/json'; Ctrl-C stops.`);
  } catch (e) {
    err.write(`ztmint dev: ${(e as Error).message}\n`);
    await stop(1);
  }
}

/** Replicas share state only through PostgreSQL: the file store allows one coordinator. */
function coordinatorReplicas(opts: DevOptions): number {
  const n = opts.coordinators ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error('--coordinators must be a positive integer');
  if (n > 1 && !isPostgresUrl(opts.store)) throw new Error('--coordinators > 1 needs --store postgres://… (the file store allows one coordinator)');
  return n;
}
