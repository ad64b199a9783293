// `ztmint audit export` and `ztmint audit cross-check` (issue 15): copy a verified log to a
// directory or an S3 bucket with Object Lock, and compare the signers' share logs with the
// coordinator's audit log. Both work against a running `ztmint dev --state DIR` (dev-stack.json).
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ZtmintError } from '../errors/ztmint-error.js';
import { exportLog } from '../transparency/export-log.js';
import { directoryTarget, s3Target, type ExportTarget } from '../transparency/export-targets.js';
import { ed25519NoteVerifier, parseVerifierKey } from '../transparency/signed-note.js';
import { verifyLogCopy, type VerifiedLogCopy } from '../transparency/verify-copy.js';
import { crossCheck, formatCrossCheck, recordedJtis } from './cross-check.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';
import { operatorTls, readSignerLog, stackSigners } from './signer-logs.js';
import { storeOption } from './store-options.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number, at least 1');
  return n;
}

/** A log served over HTTP(S) in the tiles layout (e.g. the coordinator's), checked against `vkey`. */
async function readHttpLog(base: string, vkey: string): Promise<VerifiedLogCopy & { entries: Uint8Array[] }> {
  const root = base.replace(/\/+$/, '');
  const fetchPath = async (path: string) => {
    const res = await fetch(`${root}/${path}`, { signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new ZtmintError('log_unreadable', `GET ${root}/${path} answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const key = parseVerifierKey(vkey);
  const copy = await verifyLogCopy({ fetch: fetchPath, origin: key.name, verifiers: [ed25519NoteVerifier(key)], entries: true });
  return copy as VerifiedLogCopy & { entries: Uint8Array[] };
}

interface ExportOptions {
  to: string;
  state?: string;
  signer?: number;
  from?: string;
  key?: string;
  s3Endpoint?: string;
  s3Region?: string;
  retainDays: number;
}

async function runExport(opts: ExportOptions, say: (line: string) => void): Promise<void> {
  let copy: VerifiedLogCopy & { entries: Uint8Array[] };
  let what: string;
  if (opts.signer !== undefined) {
    const stack = readDevStackFile(stateDirFrom(opts));
    const signer = stackSigners(stack).find((s) => s.name === `signer-${opts.signer}`);
    if (!signer)
      throw new ZtmintError(
        'signer_unknown',
        `the stack has no signer ${opts.signer} (it has ${stackSigners(stack)
          .map((s) => s.name)
          .join(', ')})`,
      );
    say(`reading ${signer.name}'s share log from ${signer.url}…`);
    copy = (await readSignerLog(signer.name, signer.url, await operatorTls(stack))).copy;
    what = `${signer.name}'s share log`;
  } else if (opts.from && opts.key) {
    say(`reading the log at ${opts.from}…`);
    copy = await readHttpLog(opts.from, opts.key);
    what = `the log ${copy.checkpoint.origin}`;
  } else if (opts.from || opts.key) {
    throw new ZtmintError('export_source_missing', '--from and --key go together: the base URL of a log in the tiles layout and its note verifier key');
  } else {
    // The coordinator's transparency log, as its discovery document names it.
    const stack = readDevStackFile(stateDirFrom(opts));
    const res = await fetch(`${stack.coordinator.url}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(30_000) });
    const discovery = (await res.json()) as { transparency_log?: { url: string; verifier_key: string } };
    if (!discovery.transparency_log)
      throw new ZtmintError('export_source_missing', `the coordinator at ${stack.coordinator.url} publishes no transparency log; pass --signer N or --from URL --key VKEY`);
    say(`reading the coordinator's log from ${discovery.transparency_log.url}…`);
    copy = await readHttpLog(discovery.transparency_log.url, discovery.transparency_log.verifier_key);
    what = "the coordinator's log";
  }
  say(`${what}: ${copy.checkpoint.size} entries, checkpoint verified`);
  const target: ExportTarget = opts.to.startsWith('s3://') ? await s3Target({ url: opts.to, endpoint: opts.s3Endpoint, region: opts.s3Region, retainDays: opts.retainDays }) : directoryTarget(opts.to);
  try {
    const r = await exportLog(copy, target, say);
    say(`exported ${what} to ${target.description}: entries ${r.from}..${r.to} (${r.files} tiles and bundles), checkpoint written last`);
  } finally {
    await target.close();
  }
}

async function runCrossCheck(opts: { state?: string; store?: string; json?: boolean }, say: (line: string) => void): Promise<boolean> {
  const state = stateDirFrom(opts);
  const stack = readDevStackFile(state);
  const tls = await operatorTls(stack);
  const group = JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as { threshold: number };
  const logs = [];
  const unreadable: string[] = [];
  for (const s of stackSigners(stack)) {
    try {
      logs.push(await readSignerLog(s.name, s.url, tls));
    } catch (err) {
      unreadable.push(`${s.name}: ${(err as Error).message}`);
    }
  }
  const recorded = await recordedJtis({ state, ...(opts.store ? { store: opts.store } : {}) });
  const report = crossCheck(logs, recorded, group.threshold);
  if (opts.json) say(JSON.stringify({ ...report, unreadable }));
  else for (const line of [...unreadable.map((u) => `cannot read the share log of ${u}`), ...formatCrossCheck(report, group.threshold)]) say(line);
  return unreadable.length === 0 && !report.missing.some((m) => m.complete);
}

/** Adds `export` and `cross-check` to the `audit` command group (created if absent). */
export function registerAuditExportCommands(program: Command): void {
  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit').description('audit log operations');
  audit
    .command('export')
    .description('copy a verified log in the C2SP tlog-tiles layout to a directory or an S3 bucket with Object Lock (incremental; the checkpoint last)')
    .requiredOption('--to <dest>', 'a directory, or s3://bucket[/prefix] (credentials: the AWS SDK chain, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)')
    .option('--state <dir>', 'the running dev stack (default: ZTMINT_STATE)')
    .addOption(new Option('--signer <n>', "export signer n's share log (default: the coordinator's transparency log)").argParser(positive))
    .option('--from <url>', 'export the log served in the tiles layout at this base URL')
    .option('--key <vkey>', 'with --from: the note verifier key of that log (its name is the origin)')
    .option('--s3-endpoint <url>', 'an S3-compatible endpoint instead of AWS (path-style requests)')
    .option('--s3-region <region>', 'the bucket region (default: AWS_REGION, else us-east-1)')
    .addOption(new Option('--retain-days <n>', 'Object Lock retention (compliance mode) of every object written').argParser(positive).default(365))
    .action(async (opts: ExportOptions) => runExport(opts, (l) => console.log(l)));
  audit
    .command('cross-check')
    .description("compare every signer's share log with the coordinator's audit log; names each token signed but not recorded (exit 1)")
    .option('--state <dir>', 'the running dev stack (default: ZTMINT_STATE)')
    .addOption(storeOption())
    .option('--json', 'print one JSON object', false)
    .action(async (opts: { state?: string; store?: string; json?: boolean }) => {
      if (!(await runCrossCheck(opts, (l) => console.log(l)))) process.exitCode = 1;
    });
}
