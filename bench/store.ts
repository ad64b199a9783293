// Mint throughput by state store, in one run: the embedded file store (one coordinator), then
// PostgreSQL with 1 and with 2 coordinator replicas (a real server from initdb + pg_ctl in a
// temporary directory, as in the tests). Each configuration is a fresh `ztmint dev --json` stack
// (3 signers, 2-of-3) under the same closed-loop load; with replicas, the workers are spread over
// them round-robin, as a load balancer would. Only 200s count.
//
//   node build/bench/store.js [--json] [--concurrency 16] [--duration 5] [--warmup 2]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { postgresBin, startPostgres } from '../test/helpers/postgres.js';
import { fetchTokens, percentile } from './e2e.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin', 'ztmint.js');
const progress = (line: string) => process.stderr.write(`${line}\n`);

export interface StoreBenchOptions {
  concurrency: number;
  durationS: number;
  warmupS: number;
}

interface StoreRun {
  store: 'file' | 'postgres';
  replicas: number;
  mints: number;
  errors: number;
  mints_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export interface StoreBenchResult {
  /** mints/s by configuration (null: PostgreSQL is not installed; scripts/ci-postgres.sh installs it). */
  store_mints_per_s: { file: number; postgres_1_replica: number | null; postgres_2_replicas: number | null };
  store_runs: StoreRun[];
  store_concurrency: number;
  /** 1-minute load average before and after (other work on the machine skews every figure). */
  store_loadavg: [number, number];
}

export function parseStoreArgs(argv: string[]): StoreBenchOptions {
  const opts: StoreBenchOptions = { concurrency: 16, durationS: 5, warmupS: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => Number(argv[++i]);
    if (a === '--store-concurrency' || a === '--concurrency') opts.concurrency = value();
    else if (a === '--store-duration' || a === '--duration') opts.durationS = value();
    else if (a === '--store-warmup' || a === '--warmup') opts.warmupS = value();
    else if (a === '--quick') Object.assign(opts, { durationS: 2, warmupS: 1 });
    else if (a !== '--json') throw new Error(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1 && opts.concurrency <= 128)) throw new Error('--concurrency: 1..128');
  if (!(opts.durationS > 0 && opts.durationS <= 60)) throw new Error('--duration: 0 < S ≤ 60');
  if (!(opts.warmupS >= 0 && opts.warmupS <= 30)) throw new Error('--warmup: 0 ≤ S ≤ 30');
  return opts;
}

interface DevStack {
  coordinators: string[];
  coordinator: string;
  issuer: string;
  stop(): Promise<void>;
}

async function startDev(args: string[]): Promise<DevStack> {
  const state = await mkdtemp(join(tmpdir(), 'ztmint-bench-store-'));
  const generous = '1000000/min,1000000';
  const child = spawn(process.execPath, [CLI, 'dev', '--json', '--state', state, '--rate-repository', generous, '--rate-sub', generous, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZTMINT_LOG_LEVEL: 'warn' },
  });
  let printed = '';
  child.stderr!.on('data', (chunk: Buffer) => (printed = (printed + chunk.toString()).slice(-16 * 1024)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(state, { recursive: true, force: true });
  };
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dev stack not ready in 90 s:\n${printed}`)), 90_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
      child.once('exit', (code) => reject(new Error(`dev stack exited (${code}):\n${printed}`)));
    });
    return { coordinators: ready.coordinators as string[], coordinator: ready.coordinator as string, issuer: ready.issuer as string, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const MINT_BODY = JSON.stringify({ scopes: ['deploy:canary'] });

/** Closed loop over the replicas: worker i always talks to replica i mod n. */
async function load(pools: Pool[], tokens: string[], concurrency: number, durationS: number) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const pool = pools[w % pools.length]!;
      while (performance.now() < deadline && next < tokens.length) {
        const token = tokens[next++]!;
        const t0 = performance.now();
        const res = await pool.request({ method: 'POST', path: '/v1/mint', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: MINT_BODY });
        await res.body.dump();
        if (res.statusCode === 200) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  return { latencies, errors, seconds: (performance.now() - start) / 1000 };
}

async function measure(label: string, args: string[], opts: StoreBenchOptions): Promise<Omit<StoreRun, 'store' | 'replicas'>> {
  const stack = await startDev(args);
  const pools = stack.coordinators.map((url) => new Pool(url, { connections: opts.concurrency, keepAliveTimeout: 60_000 }));
  try {
    if (opts.warmupS > 0) await load(pools, await fetchTokens(stack.issuer, Math.ceil(opts.warmupS * 300), stack.coordinator), Math.min(8, opts.concurrency), opts.warmupS);
    const tokens = await fetchTokens(stack.issuer, Math.ceil(opts.durationS * 600) + 100 * opts.concurrency, stack.coordinator);
    const r = await load(pools, tokens, opts.concurrency, opts.durationS);
    const sorted = r.latencies.sort((a, b) => a - b);
    const run = {
      mints: sorted.length,
      errors: r.errors,
      mints_per_s: Number((sorted.length / r.seconds).toFixed(1)),
      p50_ms: Number(percentile(sorted, 50).toFixed(1)),
      p99_ms: Number(percentile(sorted, 99).toFixed(1)),
    };
    progress(
      `store: ${label.padEnd(24)} ${run.mints_per_s.toFixed(0).padStart(4)} mints/s  p50 ${run.p50_ms} ms  p99 ${run.p99_ms} ms  (${run.mints} mints, ${run.errors} errors, c=${opts.concurrency})`,
    );
    return run;
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await stack.stop();
  }
}

export async function runStoreBench(opts: StoreBenchOptions): Promise<StoreBenchResult> {
  const runs: StoreRun[] = [];
  const loadBefore = Number(loadavg()[0]!.toFixed(2));
  const file = await measure('file store, 1 coordinator', [], opts);
  runs.push({ store: 'file', replicas: 1, ...file });
  const result: StoreBenchResult = {
    store_mints_per_s: { file: file.mints_per_s, postgres_1_replica: null, postgres_2_replicas: null },
    store_runs: runs,
    store_concurrency: opts.concurrency,
    store_loadavg: [loadBefore, loadBefore],
  };
  if (!postgresBin()) {
    progress('store: PostgreSQL not installed (scripts/ci-postgres.sh): PostgreSQL runs skipped');
    return result;
  }
  const server = await startPostgres();
  try {
    for (const replicas of [1, 2]) {
      const url = await server.createDatabase(`bench_${replicas}`);
      const run = await measure(`PostgreSQL, ${replicas} replica${replicas > 1 ? 's' : ''}`, ['--store', url, '--coordinators', String(replicas)], opts);
      runs.push({ store: 'postgres', replicas, ...run });
      if (replicas === 1) result.store_mints_per_s.postgres_1_replica = run.mints_per_s;
      else result.store_mints_per_s.postgres_2_replicas = run.mints_per_s;
    }
  } finally {
    server.stop();
  }
  result.store_loadavg[1] = Number(loadavg()[0]!.toFixed(2));
  progress(`store: load average ${result.store_loadavg[0]} → ${result.store_loadavg[1]}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  runStoreBench(parseStoreArgs(argv)).then(
    (result) => {
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (err: Error) => {
      progress(`store: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}
