// `ztmint keys …`: the group key's lifecycle, through the coordinator's admin API (mTLS with the
// admin client certificate). docs/keys.md.
//
//   ztmint keys status [--state DIR] [--json]                     the key set, its schedule, each signer's ring
//   ztmint keys rotate [--state DIR] [--activation-delay S] [--overlap S] [--json]
//   ztmint keys refresh [--state DIR] [--json]                    new shares of the key signing now (all n)
//   ztmint keys repair --index I [--helpers 1,3] [--state DIR]     rebuild signer I's lost share
//   ztmint keys reshare --threshold T --signers N [--dealers 1,3]  the same key as T-of-N over signers 1..N
//
// Against a running `ztmint dev --state DIR` (or ZTMINT_STATE) the admin URL and certificates come
// from <state>/dev-stack.json; elsewhere pass --admin-url, --cert, --key and --ca.
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Agent, request } from 'undici';
import { ZtmintError } from '../errors/ztmint-error.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';

interface AdminTarget {
  url: string;
  cert: string;
  key: string;
  ca: string;
}

interface AdminFlags {
  state?: string;
  adminUrl?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

function signerIndex(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new InvalidArgumentError('expected a signer index (1…255)');
  return n;
}

function signerIndices(value: string): number[] {
  return value.split(',').map((v) => signerIndex(v.trim().replace(/^signer-/, '')));
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of seconds');
  return n;
}

/** The admin API and the admin credentials: flags first, else the running dev stack's file. */
async function adminTarget(flags: AdminFlags): Promise<AdminTarget> {
  if (flags.adminUrl && flags.cert && flags.key && flags.ca) {
    return { url: flags.adminUrl, cert: await readFile(flags.cert, 'utf8'), key: await readFile(flags.key, 'utf8'), ca: await readFile(flags.ca, 'utf8') };
  }
  const stack = readDevStackFile(stateDirFrom(flags));
  const url = flags.adminUrl ?? stack.coordinator.admin?.[0];
  if (!url) throw new ZtmintError('admin_api_missing', `the dev stack in ${stack.state} has no admin API in dev-stack.json: restart it with this ztmint, or pass --admin-url`);
  return {
    url,
    cert: await readFile(flags.cert ?? stack.tls.admin_cert, 'utf8'),
    key: await readFile(flags.key ?? stack.tls.admin_key, 'utf8'),
    ca: await readFile(flags.ca ?? stack.tls.ca, 'utf8'),
  };
}

/** One admin call; a problem document becomes an error carrying its detail (which says what to do). */
async function adminCall(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 600_000): Promise<Record<string, unknown>> {
  const agent = new Agent({ connect: { cert: target.cert, key: target.key, ca: target.ca, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    let res;
    try {
      res = await request(`${target.url}${path}`, {
        method,
        dispatcher: agent,
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new ZtmintError('admin_api_unreachable', `the coordinator's admin API at ${target.url} is unreachable (${(cause as Error).message}): is the stack running?`, { cause });
    }
    const doc = (await res.body.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.statusCode !== 200) {
      throw new ZtmintError(
        typeof doc.code === 'string' ? doc.code : 'admin_call_failed',
        typeof doc.detail === 'string' ? `${doc.detail} [${String(doc.code)}]` : `HTTP ${res.statusCode} from ${path}`,
      );
    }
    return doc;
  } finally {
    await agent.close();
  }
}

const iso = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString() : '—');

function printStatus(doc: Record<string, unknown>, out: (line: string) => void): void {
  const keys = doc.keys as Array<Record<string, unknown>>;
  out('key set (coordinator):');
  for (const k of keys) {
    out(`  ${String(k.kid)}  ${String(k.state).padEnd(8)} ${k.in_jwks ? 'in JWKS ' : 'not in JWKS'}  ${String(k.threshold)}-of-${String(k.signers)}`);
    out(`      published ${iso(k.published_at)}  activates ${iso(k.activates_at)}  retires ${k.retires_at === null ? 'never (current)' : iso(k.retires_at)}`);
    const shares = (k.verifying_shares ?? {}) as Record<string, string>;
    out(
      `      verifying shares: ${Object.entries(shares)
        .map(([name, fp]) => `${name} ${fp}`)
        .join(', ')}`,
    );
    const changed = k.shares_changed as { kind: string; ceremony: string; at: number } | undefined;
    if (changed) out(`      shares changed by a ${changed.kind} at ${iso(changed.at)} (ceremony ${changed.ceremony})`);
  }
  out('signers:');
  for (const s of doc.signers as Array<Record<string, unknown>>) {
    if (typeof s.error === 'string') {
      out(`  ${String(s.name)}: ${s.error}`);
      continue;
    }
    const ring = (s.keys as Array<Record<string, unknown>>).map((k) => `${String(k.kid).slice(0, 12)}…${k.activates_at === null ? ' (pending)' : ''}`);
    out(`  ${String(s.name)}: signs with ${String(s.current).slice(0, 12)}…; holds ${ring.join(', ')}`);
  }
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('group key lifecycle through the coordinator admin API (docs/keys.md)');
  const common = (c: Command) =>
    c
      .option('--state <dir>', 'state directory of a running `ztmint dev --state DIR` (default: ZTMINT_STATE)')
      .option('--admin-url <url>', "the coordinator's admin API (default: from <state>/dev-stack.json)")
      .option('--cert <file>', 'admin client certificate (default: <state>/tls/admin.pem)')
      .option('--key <file>', 'its private key (default: <state>/tls/admin-key.pem)')
      .option('--ca <file>', 'CA of the admin API (default: <state>/tls/ca.pem)')
      .option('--json', 'print the JSON answer', false);

  common(keys.command('status').description('the key set (next, active, previous, retired), its schedule and each signer’s key ring')).action(async (opts: AdminFlags & { json: boolean }) => {
    const doc = await adminCall(await adminTarget(opts), 'GET', '/v1/admin/keys');
    if (opts.json) console.log(JSON.stringify(doc));
    else printStatus(doc, (l) => console.log(l));
  });

  common(keys.command('rotate').description('new group key by a DKG across the running signers; published now, signing after the activation delay, the previous key kept for the overlap'))
    .addOption(new Option('--activation-delay <seconds>', 'seconds the new key is in the JWKS before it signs (default: the coordinator’s keyActivationDelay)').argParser(seconds))
    .addOption(new Option('--overlap <seconds>', 'seconds the previous key stays in the JWKS after that (default: the coordinator’s keyOverlap)').argParser(seconds))
    .action(async (opts: AdminFlags & { json: boolean; activationDelay?: number; overlap?: number }) => {
      const target = await adminTarget(opts);
      if (!opts.json) console.log(`rotating the group key at ${target.url}: a DKG across every signer (they keep signing meanwhile), then schedule and publish…`);
      const body = { ...(opts.activationDelay !== undefined ? { activation_delay: opts.activationDelay } : {}), ...(opts.overlap !== undefined ? { overlap: opts.overlap } : {}) };
      const doc = await adminCall(target, 'POST', '/v1/admin/keys/rotate', body);
      if (opts.json) {
        console.log(JSON.stringify(doc));
        return;
      }
      console.log(`new key ${String(doc.kid)} (ceremony ${String(doc.ceremony)}, audit #${String((doc.audit as { index: number }).index)})`);
      console.log(`  in the JWKS now; new tokens carry it from ${iso(doc.activates_at)}`);
      for (const p of doc.previous as Array<{ kid: string; retires_at: number | null }>) console.log(`  previous key ${p.kid} leaves the JWKS at ${iso(p.retires_at)}`);
      console.log('`ztmint keys status` shows where each key stands.');
    });

  const shareCommand = (c: Command, path: string, intro: (opts: Record<string, unknown>) => string, body: (opts: Record<string, unknown>) => Record<string, unknown>) =>
    c.action(async (opts: AdminFlags & { json: boolean } & Record<string, unknown>) => {
      const target = await adminTarget(opts);
      if (!opts.json) {
        console.log(`${intro(opts)} at ${target.url}`);
        console.log('  rounds 1–3 and finalize at every member (the signers keep signing meanwhile), then activation: mints of this key wait (≤ 10 s) until every signer has switched…');
      }
      const doc = await adminCall(target, 'POST', path, body(opts));
      if (opts.json) {
        console.log(JSON.stringify(doc));
        return;
      }
      printShareChange(doc, (l) => console.log(l));
    });

  shareCommand(
    common(keys.command('refresh').description('new shares of the key signing now (same group key, same quorum): every signer deals and receives; an old share is useless afterwards')),
    '/v1/admin/keys/refresh',
    () => 'refreshing every share of the key signing now',
    () => ({}),
  );
  shareCommand(
    common(keys.command('repair').description("rebuild a signer's lost share (the same share) from t helpers; the signer must run, started without its share"))
      .requiredOption('--index <i>', 'the signer whose share is lost', signerIndex)
      .option('--helpers <list>', 'helpers, e.g. 1,3 (default: every other reachable signer)', signerIndices),
    '/v1/admin/keys/repair',
    (o) => `repairing signer-${String(o.index)}'s share`,
    (o) => ({ index: o.index, ...(o.helpers ? { helpers: o.helpers } : {}) }),
  );
  shareCommand(
    common(keys.command('reshare').description('the same group key as a T-of-N sharing over signers 1..N (the coordinator must know each one’s URL); old shares are useless afterwards'))
      .requiredOption('--threshold <t>', 'signers needed for a signature afterwards', signerIndex)
      .requiredOption('--signers <n>', 'signers holding a share afterwards (signer-1 … signer-N)', signerIndex)
      .option('--dealers <list>', 'current holders that deal, e.g. 1,3 (default: every reachable holder)', signerIndices),
    '/v1/admin/keys/reshare',
    (o) => `resharing the key signing now as ${String(o.threshold)}-of-${String(o.signers)}`,
    (o) => ({ threshold: o.threshold, signers: o.signers, ...(o.dealers ? { dealers: o.dealers } : {}) }),
  );
}

function printShareChange(doc: Record<string, unknown>, out: (line: string) => void): void {
  out(`${String(doc.kind)} of key ${String(doc.kid)} done (ceremony ${String(doc.ceremony)}, audit #${String((doc.audit as { index: number }).index)})`);
  out(`  dealers ${(doc.dealers as string[]).join(', ')} → ${(doc.recipients as string[]).join(', ')}; now ${String(doc.threshold)}-of-${String(doc.signers)}, same group key (JWKS unchanged)`);
  for (const [name, share] of Object.entries(doc.verifying_shares as Record<string, string>)) out(`  ${name} verifying share ${share}`);
  out('`ztmint keys status` shows the key set.');
}
