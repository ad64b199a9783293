// `npm run bench`: the FROST micro benchmark (bench/frost.ts, in a child process of its own), then
// the end-to-end mint benchmark (bench/e2e.ts, this process is the load generator), then mints/s
// by state store (bench/store.ts: file store, PostgreSQL with 1 and 2 coordinator replicas), then
// what the transparency log costs (bench/tlog-cost.ts: mints/s with and without checkpoints and proofs).
//
//   node build/bench/all.js [--json] [--quick] [--skip-micro] [--skip-e2e] [--skip-store]
//        [--skip-tlog] [micro: --rounds N --primitives] [e2e: --levels 1,4,8,16,32 --duration S --warmup S
//         --max-tokens N --cpu-prof DIR --slo-p99 MS]
//
// Progress and tables go to stderr; with --json, ONE JSON object goes to stdout:
//   frost_sign_ms, noble_frost_ms, ed25519_ms, noble_over_frost, frost_over_ed25519   (micro)
//   mints_per_s, p50_ms, p95_ms, p99_ms, concurrency, rss_coordinator_mb, rss_signers_mb, sweep (e2e)
//   store_mints_per_s { file, postgres_1_replica, postgres_2_replicas }, store_runs (store)
//   tlog_cost { with_proofs_mints_per_s, without_proofs_mints_per_s, ratio, … } (tlog)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseE2eArgs, runE2e } from './e2e.js';
import { parseStoreArgs, runStoreBench } from './store.js';
import { runTlogCost } from './tlog-cost.js';

const HERE = new URL('.', import.meta.url).pathname;

function runMicro(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(HERE, 'frost.js'), '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`micro benchmark exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>);
      } catch {
        reject(new Error('micro benchmark printed no JSON'));
      }
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const skipMicro = argv.includes('--skip-micro');
  const skipE2e = argv.includes('--skip-e2e');
  const skipStore = argv.includes('--skip-store');
  const skipTlog = argv.includes('--skip-tlog');
  const micro: string[] = [];
  const e2e: string[] = [];
  const store: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['--json', '--skip-micro', '--skip-e2e', '--skip-store', '--skip-tlog'].includes(a)) continue;
    if (a === '--quick') {
      micro.push(a);
      e2e.push(a);
      store.push(a);
    } else if (a === '--primitives') micro.push(a);
    else if (a === '--rounds') micro.push(a, argv[++i] ?? '');
    else if (['--levels', '--duration', '--warmup', '--max-tokens', '--cpu-prof', '--slo-p99'].includes(a)) e2e.push(a, argv[++i] ?? '');
    else if (['--store-concurrency', '--store-duration', '--store-warmup'].includes(a)) store.push(a, argv[++i] ?? '');
    else if (a === '--help' || a === '-h') {
      process.stderr.write(
        'usage: node build/bench/all.js [--json] [--quick] [--skip-micro] [--skip-e2e] [--rounds N] [--primitives] [--levels 1,4,8,16,32] [--duration S] [--warmup S] [--max-tokens N] [--cpu-prof DIR] [--slo-p99 MS] [--skip-store] [--skip-tlog] [--store-concurrency C] [--store-duration S] [--store-warmup S]\n',
      );
      return;
    } else throw new Error(`unknown argument ${a}`);
  }
  const e2eOpts = parseE2eArgs(e2e);
  const storeOpts = parseStoreArgs(store);
  const result: Record<string, unknown> = {};
  if (!skipMicro) {
    process.stderr.write('== FROST micro benchmark (bench/frost.ts) ==\n');
    Object.assign(result, await runMicro(micro));
  }
  if (!skipE2e) {
    process.stderr.write('\n== end-to-end mint benchmark (bench/e2e.ts) ==\n');
    Object.assign(result, await runE2e(e2eOpts));
  }
  if (!skipStore) {
    process.stderr.write('\n== mints/s by state store (bench/store.ts) ==\n');
    Object.assign(result, await runStoreBench(storeOpts));
  }
  if (!skipTlog) {
    process.stderr.write('\n== what the transparency log costs (bench/tlog-cost.ts) ==\n');
    Object.assign(result, await runTlogCost(e2eOpts));
  }
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
