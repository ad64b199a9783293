// `ztmint dkg`: distributed key generation for a state directory, no trusted dealer. Creates the
// local PKI if missing (same CA and certificates as `ztmint keygen`), then either starts n local
// `ztmint signer dkg-serve` processes or contacts running ones (`--signer signer-i=URL`), relays
// the ceremony as the coordinator (mTLS client certificate from <state>/tls/) and writes
// <state>/group.json. Each signer seals its own share; this process never sees one.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DkgRelay, writeGroupFile, type DkgResult, type RelayExchange, type RelaySigner } from '../coordinator/dkg-relay.js';
import { validateQuorum } from './keygen.js';
import { writeDevPki, type CertRole } from '../pki/local-pki.js';
import { spawnService, type Service } from './processes.js';

export interface DkgOptions {
  state: string;
  signers: number;
  threshold: number;
  /** Running DKG signers to contact; empty: start n local ones. */
  endpoints?: RelaySigner[];
  /** Write the relay's transcript (everything sent and received) here, as JSON. */
  transcriptFile?: string;
  /** Only create the PKI (if missing). */
  pkiOnly?: boolean;
  /** Replace an existing group.json and the local signers' shares. */
  force?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

function pkiEntities(signers: number): Array<{ name: string; role: CertRole }> {
  return [{ name: 'coordinator', role: 'both' }, { name: 'admin', role: 'client' }, ...Array.from({ length: signers }, (_, i) => ({ name: `signer-${i + 1}`, role: 'server' as const }))];
}

/** Creates `<state>/tls/` like keygen does unless it exists; checks it covers n signers. */
async function ensurePki(state: string, signers: number, log: (line: string) => void = () => {}): Promise<boolean> {
  const tls = join(state, 'tls');
  const entities = pkiEntities(signers);
  if (existsSync(join(tls, 'ca.pem'))) {
    const missing = entities.filter((e) => !existsSync(join(tls, `${e.name}.pem`)) || !existsSync(join(tls, `${e.name}-key.pem`)));
    if (missing.length) {
      throw new Error(`${tls} has a CA but no certificate for ${missing.map((e) => e.name).join(', ')}: issue them with ztmint pki issue --state ${state} --name <name>`);
    }
    return false;
  }
  await writeDevPki(state, entities);
  log(`local CA and ${entities.length} certificates in ${tls}`);
  return true;
}

async function relayTls(state: string) {
  const tls = join(state, 'tls');
  const [key, cert, ca] = await Promise.all(['coordinator-key.pem', 'coordinator.pem', 'ca.pem'].map((f) => readFile(join(tls, f), 'utf8')));
  return { key: key!, cert: cert!, ca: ca! };
}

export async function runDkg(opts: DkgOptions): Promise<DkgResult | undefined> {
  const state = resolve(opts.state);
  const log = opts.log ?? (() => {});
  const endpoints = opts.endpoints ?? [];
  const n = endpoints.length || opts.signers;
  validateQuorum(n, opts.threshold);
  if (!opts.pkiOnly && existsSync(join(state, 'group.json')) && !opts.force) {
    throw new Error(`${join(state, 'group.json')} exists: this state already has a key set (pass --force to replace it)`);
  }
  await ensurePki(state, n, log);
  if (opts.pkiOnly) return undefined;

  const started: Service[] = [];
  let relay: DkgRelay | undefined;
  let ok = false;
  try {
    let signers = endpoints;
    if (!signers.length) {
      log(`starting ${n} local DKG signers`);
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          spawnService(
            [
              'signer',
              'dkg-serve',
              '--state',
              state,
              '--index',
              String(i + 1),
              '--host',
              '127.0.0.1',
              '--port',
              '0',
              '--expect-signers',
              String(n),
              '--expect-threshold',
              String(opts.threshold),
              '--exit-when-done',
              ...(opts.force ? ['--replace'] : []),
            ],
            `signer-${i + 1} (dkg)`,
          ),
        ),
      );
      started.push(...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      signers = started.map((s, i) => ({ name: `signer-${i + 1}`, url: s.ready.url }));
      for (const [i, s] of started.entries()) log(`  signer-${i + 1} (pid ${s.ready.pid}) at ${s.ready.url}`);
    }
    relay = new DkgRelay({ signers, threshold: opts.threshold, tls: await relayTls(state), log, timeoutMs: opts.timeoutMs });
    const result = await relay.run();
    const path = await writeGroupFile(state, result.group);
    log(`wrote ${path}: group key ${result.group.group_public_key} (${result.group.threshold}-of-${result.group.signers})`);
    ok = true;
    return result;
  } finally {
    if (relay) {
      await relay.close();
      if (opts.transcriptFile) await writeTranscript(opts.transcriptFile, relay.ceremony, relay.transcript);
    }
    // After a success the local signers exit by themselves (--exit-when-done); else stop them now.
    await Promise.all(started.map((s) => stopService(s, ok ? 5_000 : 0)));
  }
}

async function writeTranscript(file: string, ceremony: string, exchanges: RelayExchange[]): Promise<void> {
  await writeFile(resolve(file), JSON.stringify({ ceremony, exchanges }, null, 2) + '\n');
}

/** Lets a local signer exit by itself for `graceMs`, then SIGTERM, then SIGKILL: never waits forever. */
async function stopService(s: Service, graceMs: number): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  const term = setTimeout(() => s.child.kill('SIGTERM'), graceMs);
  const kill = setTimeout(() => s.child.kill('SIGKILL'), graceMs + 10_000);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}
