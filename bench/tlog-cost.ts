// What the transparency log costs a mint (issue #15): the same end-to-end benchmark (bench/e2e.ts,
// the real dev stack) twice in one run and at one concurrency, once as shipped (every mint waits for
// a quorum-signed checkpoint covering its record, batched with concurrent mints, and answers with an
// inclusion proof) and once with `--insecure-no-transparency-proofs` (records still appended to the
// Merkle log, no checkpoints, no proofs), alternated over rounds. The ratio is the figure; absolute numbers follow the
// machine and its load, which is printed with them.
import { loadavg } from 'node:os';
import { runE2e, type E2eOptions, type E2eResult } from './e2e.js';

export interface TlogCostResult {
  tlog_cost: {
    concurrency: number;
    rounds: number;
    with_proofs_mints_per_s: number;
    without_proofs_mints_per_s: number;
    with_proofs_p99_ms: number;
    without_proofs_p99_ms: number;
    /** with ÷ without: the share of throughput kept with checkpoints and proofs on. */
    ratio: number;
    loadavg: [number, number];
  };
}

/**
 * One level, both configurations, alternated `rounds` times (A B A B …) so that a change in the
 * machine's load during the run falls on both; each figure is the median of its rounds.
 */
export async function runTlogCost(base: E2eOptions, concurrency = 8, rounds = 3): Promise<TlogCostResult> {
  const opts: E2eOptions = { ...base, json: false, levels: [concurrency], cpuProf: undefined };
  const loadBefore = loadavg()[0]!;
  const withRuns: E2eResult[] = [];
  const withoutRuns: E2eResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    process.stderr.write(`tlog-cost: round ${r}/${rounds}, concurrency ${concurrency}, with transparency proofs (as shipped)\n`);
    withRuns.push(await runE2e(opts));
    process.stderr.write(`tlog-cost: round ${r}/${rounds}, without checkpoints and proofs (--insecure-no-transparency-proofs)\n`);
    withoutRuns.push(await runE2e({ ...opts, devArgs: ['--insecure-no-transparency-proofs'] }));
  }
  const withProofs = { mints_per_s: median(withRuns.map((x) => x.mints_per_s)), p99_ms: median(withRuns.map((x) => x.p99_ms)) };
  const without = { mints_per_s: median(withoutRuns.map((x) => x.mints_per_s)), p99_ms: median(withoutRuns.map((x) => x.p99_ms)) };
  const ratio = without.mints_per_s > 0 ? withProofs.mints_per_s / without.mints_per_s : 0;
  process.stderr.write(
    `tlog-cost: median ${withProofs.mints_per_s.toFixed(0)} mints/s (p99 ${withProofs.p99_ms.toFixed(1)} ms) with proofs, ` +
      `${without.mints_per_s.toFixed(0)} mints/s (p99 ${without.p99_ms.toFixed(1)} ms) without: ratio ${ratio.toFixed(2)}\n`,
  );
  return {
    tlog_cost: {
      concurrency,
      rounds,
      with_proofs_mints_per_s: withProofs.mints_per_s,
      without_proofs_mints_per_s: without.mints_per_s,
      with_proofs_p99_ms: withProofs.p99_ms,
      without_proofs_p99_ms: without.p99_ms,
      ratio,
      loadavg: [loadBefore, loadavg()[0]!],
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
