// Chaos suite (issue #7): a steady stream of mints (bounded concurrency) while signers and the
// coordinator are killed and restarted and the audit log becomes unwritable or full; afterwards
// every token the clients received must verify against the JWKS and have its audit record, the
// log must verify end to end, no mint may have succeeded without t live signers, and mints must
// have resumed by themselves after each fault. Run with `npm run test:chaos` (not part of `npm test`).
//
// Knobs (environment): CHAOS_CONCURRENCY (6), CHAOS_MIN_ATTEMPTS (2000), CHAOS_REPORT (write the
// JSON report there), CHAOS_KEEP=1 (keep the state directory and logs even when all is well),
// CHAOS_MOUNT=0 (do not try to mount a small filesystem on the audit directory).
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from '../helpers/stack.js';
import { analyse, type ChaosReport, type FaultEvent } from './analysis.js';
import { fileSize, fill, mountSmallFs, prlimitWorks, probeImmutable, setFileSizeLimit, setImmutable, unmount } from './audit-faults.js';
import { Load } from './load.js';

const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 6);
const MIN_ATTEMPTS = Number(process.env.CHAOS_MIN_ATTEMPTS ?? 2000);
/** The steady phase at the end stops here at the latest, whatever the attempt count. */
const RUN_BUDGET_MS = 200_000;
const RESUME_WITHIN_MS = 10_000;
const THRESHOLD = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack | undefined;
let load: Load | undefined;
let report: ChaosReport | undefined;
const scenarioErrors: string[] = [];
const methods: Record<string, string> = {};
/** The audit directory's own small filesystem, when one could be mounted. */
let auditFs: { dir: string; kind: string } | undefined;

async function scenario(s: Stack, l: Load, faults: FaultEvent[], started: number): Promise<void> {
  const signer = (i: number) => s.signers[i - 1]!;
  const t = s.threshold;

  async function killSigners(name: string, ids: number[], signal: NodeJS.Signals = 'SIGKILL'): Promise<FaultEvent> {
    const ev: FaultEvent = { name, how: `${signal} ${ids.map((i) => `signer-${i}`).join(' + ')}`, start: Date.now() };
    await Promise.all(ids.map((i) => signer(i).kill(signal)));
    ev.belowQuorum = s.aliveSigners() < t;
    // A below-quorum window starts once the processes are gone (conservative).
    if (ev.belowQuorum) ev.start = Date.now();
    faults.push(ev);
    return ev;
  }
  async function restartSigners(ev: FaultEvent, ids: number[]): Promise<void> {
    ev.windowEnd ??= Date.now();
    await Promise.all(ids.map((i) => signer(i).start()));
    ev.restored ??= Date.now();
  }
  async function restartCoordinator(name: string, how: NodeJS.Signals, downMs: number): Promise<FaultEvent> {
    const inflight = await l.waitForInflight(Math.min(3, CONCURRENCY));
    const ev: FaultEvent = { name, how: `${how} coordinator with ${inflight} mints in flight, restart on the same port and state`, start: Date.now(), inflight };
    faults.push(ev);
    await s.coordinator.kill(how);
    await sleep(downMs);
    ev.windowEnd = Date.now();
    await s.coordinator.start();
    ev.restored = Date.now();
    return ev;
  }

  // 1. Steady state.
  await sleep(3_000);

  // 2. One signer at a time (quorum kept: 2 of 3 up).
  for (const i of [1, 2, 3]) {
    const ev = await killSigners(`signer-${i} killed`, [i]);
    await sleep(2_000);
    await restartSigners(ev, [i]);
    await sleep(1_000);
  }
  // A frozen signer: alive but silent (the coordinator's signer timeout applies).
  {
    const ev: FaultEvent = { name: 'signer-2 frozen', how: 'SIGSTOP signer-2, SIGCONT after 4 s', start: Date.now() };
    faults.push(ev);
    signer(2).pause(true);
    await sleep(4_000);
    ev.windowEnd = Date.now();
    signer(2).pause(false);
    ev.restored = Date.now();
    await sleep(1_000);
  }

  // 3. Two at once: below quorum; mints must fail with quorum_unavailable, then resume.
  {
    const ev = await killSigners('signers 1 and 3 killed at once', [1, 3]);
    await sleep(4_000);
    await restartSigners(ev, [1, 3]);
    await sleep(2_000);
  }
  // All three down, then back one at a time: quorum returns with the second.
  {
    const ev = await killSigners('all signers killed', [1, 2, 3]);
    await sleep(2_000);
    await restartSigners({ ...ev }, [2]); // one back: still below quorum
    await sleep(2_000);
    ev.windowEnd = Date.now();
    await restartSigners(ev, [3]);
    await sleep(1_000);
    await signer(1).start();
    await sleep(1_500);
  }
  // Rolling restarts with SIGTERM (graceful), back to back.
  for (const i of [3, 1, 2]) {
    const ev = await killSigners(`signer-${i} SIGTERM restart`, [i], 'SIGTERM');
    await restartSigners(ev, [i]);
  }
  await sleep(1_500);

  // 4. The coordinator, SIGKILLed mid-mint (several times, so some kills land during an audit
  // append or a signing round), restarted on the same port and state.
  for (const [k, downMs] of [
    [1, 0],
    [2, 500],
    [3, 200],
  ] as const) {
    await restartCoordinator(`coordinator SIGKILL #${k}`, 'SIGKILL', downMs);
    await sleep(2_000);
  }
  // The coordinator comes back while a signer is still down; the signer returns later.
  {
    const ev = await killSigners('signer-3 down across a coordinator restart', [3]);
    await restartCoordinator('coordinator SIGKILL with signer-3 down', 'SIGKILL', 200);
    await sleep(2_000);
    await restartSigners(ev, [3]);
    await sleep(1_500);
  }

  // 5. Audit log unwritable while the coordinator runs.
  const auditDir = join(s.state, 'audit');
  const immutable = await probeImmutable(auditDir);
  methods.immutable = immutable.note;
  if (immutable.ok) {
    const ev: FaultEvent = { name: 'audit log immutable', how: 'chattr +i audit.jsonl for 3 s', start: 0, noSuccessInside: true, expect: '503 audit_unavailable' };
    faults.push(ev);
    setImmutable(s.auditFile, true);
    ev.start = Date.now();
    await sleep(3_000);
    ev.windowEnd = Date.now();
    setImmutable(s.auditFile, false);
    ev.restored = Date.now();
    await sleep(2_000);
  }

  // 6. The coordinator restarts while its audit log cannot be opened: it must refuse to run
  // (the load sees connection errors), and start once the log is back.
  {
    const how = immutable.ok ? 'chattr +i audit.jsonl' : 'audit.jsonl replaced by a directory';
    const ev: FaultEvent = { name: 'coordinator restart with an unwritable audit log', how, start: Date.now() };
    faults.push(ev);
    await s.coordinator.kill('SIGKILL');
    const aside = `${s.auditFile}.aside`;
    if (immutable.ok) setImmutable(s.auditFile, true);
    else {
      await rename(s.auditFile, aside);
      await mkdir(s.auditFile);
    }
    try {
      await s.coordinator.start(15_000).then(
        () => scenarioErrors.push('the coordinator started although its audit log could not be opened for appending'),
        (err: Error) => (ev.note = `refused to start: ${err.message.split('\n').filter(Boolean).slice(-1)[0] ?? ''}`),
      );
    } finally {
      if (immutable.ok) setImmutable(s.auditFile, false);
      else {
        await rm(s.auditFile, { recursive: true, force: true });
        await rename(aside, s.auditFile);
      }
    }
    ev.windowEnd = Date.now();
    if (!s.coordinator.running) await s.coordinator.start();
    ev.restored = Date.now();
    await sleep(2_000);
  }

  // 7. Audit filesystem full (ENOSPC), when a tmpfs could be mounted on the audit directory.
  if (auditFs) {
    const ev: FaultEvent = { name: 'audit filesystem full', how: `${auditFs.kind} audit filesystem filled by a filler file for 3 s`, start: Date.now(), expect: '503 audit_unavailable' };
    faults.push(ev);
    const filler = await fill(auditDir);
    await sleep(3_000);
    ev.windowEnd = Date.now();
    await rm(filler, { force: true });
    ev.restored = Date.now();
    await sleep(2_000);
  }

  // 8. File size limit (EFBIG) on the coordinator process, 256 bytes above the log's size (less
  // than any record): the next append is cut short (a short write, as on a full disk), the ones
  // after it fail. The coordinator is frozen meanwhile, so the size cannot move under us.
  const prlimit = prlimitWorks();
  methods.efbig = prlimit.note;
  if (prlimit.ok) {
    const pid = s.coordinator.pid!;
    const ev: FaultEvent = { name: 'audit file size limit', how: 'prlimit --fsize=<size of audit.jsonl + 256 B> on the coordinator for 3 s', start: Date.now(), expect: '503 audit_unavailable' };
    faults.push(ev);
    s.coordinator.pause(true);
    try {
      setFileSizeLimit(pid, (await fileSize(s.auditFile)) + 256);
    } finally {
      s.coordinator.pause(false);
    }
    await sleep(3_000);
    ev.windowEnd = Date.now();
    setFileSizeLimit(pid, undefined);
    ev.restored = Date.now();
    await sleep(2_000);
  }

  // 9. The coordinator must come back on the log it wrote through all of the above.
  await restartCoordinator('coordinator SIGTERM restart after the audit faults', 'SIGTERM', 0);
  await sleep(1_000);
  await restartCoordinator('coordinator SIGKILL restart after the audit faults', 'SIGKILL', 0);

  // 10. Steady until enough attempts (and at least a few seconds of it).
  const steadyFrom = Date.now();
  while ((l.attempts.length < MIN_ATTEMPTS || Date.now() - steadyFrom < 4_000) && Date.now() - started < RUN_BUDGET_MS) {
    await sleep(250);
  }
}

describe('chaos: mints under signer, coordinator and audit faults', () => {
  beforeAll(async () => {
    const mountWanted = process.env.CHAOS_MOUNT !== '0';
    stack = await Stack.start({
      signers: 3,
      threshold: THRESHOLD,
      coordinatorArgs: ['--rate-repository', '1000000/min,1000000', '--rate-sub', '1000000/min,1000000'],
      beforeStart: async (state) => {
        if (!mountWanted) {
          methods.enospc = 'skipped (CHAOS_MOUNT=0)';
          return;
        }
        const dir = join(state, 'audit');
        const mounted = await mountSmallFs(dir, join(state, 'audit.img'));
        methods.enospc = mounted.note;
        if (mounted.ok) auditFs = { dir, kind: mounted.kind! };
        // Should the run die without its afterAll, do not leave the mount behind.
        if (mounted.ok) process.once('exit', () => unmount(dir));
      },
    });
    const jwksBefore = await stack.jwks();
    load = new Load(stack, CONCURRENCY);
    const faults: FaultEvent[] = [];
    const started = Date.now();
    load.start();
    try {
      await scenario(stack, load, faults, started);
    } catch (err) {
      scenarioErrors.push(`scenario aborted: ${(err as Error).message}`);
    } finally {
      await load.stop();
    }
    let jwksAfter = jwksBefore;
    try {
      if (!stack.coordinator.running) await stack.coordinator.start();
      jwksAfter = await stack.jwks();
    } catch (err) {
      scenarioErrors.push(`the coordinator does not come back after the run: ${(err as Error).message}`);
    }
    const { records, torn } = await stack.auditRecords();
    report = await analyse({
      attempts: load.attempts,
      records,
      tornLines: torn,
      auditVerify: stack.auditVerify(),
      jwksBefore: jwksBefore as never,
      jwksAfter: jwksAfter as never,
      issuer: stack.coordinatorUrl,
      threshold: stack.threshold,
      signerLifetimes: new Map(stack.signers.map((s) => [s.name, s.lifetimes])),
      faults,
      resumeWithinMs: RESUME_WITHIN_MS,
      harnessErrors: load.harnessErrors,
      methods,
    });
    printReport(report);
  }, 290_000);

  afterAll(async () => {
    if (!stack) return;
    const keep = process.env.CHAOS_KEEP === '1' || scenarioErrors.length > 0 || (report?.failures.length ?? 1) > 0;
    if (report) {
      const path = process.env.CHAOS_REPORT ?? (keep ? join(stack.state, 'chaos-report.json') : undefined);
      if (path) await writeFile(path, JSON.stringify({ ...report, scenarioErrors }, null, 2)).catch(() => undefined);
    }
    await stack.stop({ keepState: true });
    if (auditFs) {
      // Keep a copy of the log for a post-mortem before its filesystem goes away.
      if (keep) await copyFile(stack.auditFile, join(stack.state, 'audit.jsonl.copy')).catch(() => undefined);
      unmount(auditFs.dir);
      await rm(join(stack.state, 'audit.img'), { force: true });
    }
    if (keep) console.log(`chaos: state, logs and report kept in ${stack.state}`);
    else await rm(stack.state, { recursive: true, force: true });
  }, 60_000);

  const failures = (category: string) => (report?.failures ?? ['no report']).filter((f) => f.startsWith(`[${category}]`) || f === 'no report');

  it('ran every fault against a steady stream of mints', () => {
    expect(scenarioErrors).toEqual([]);
    expect(report!.attempts).toBeGreaterThanOrEqual(MIN_ATTEMPTS);
    expect(failures('harness')).toEqual([]);
    expect(failures('faults').filter((f) => f.includes('did the fault bite'))).toEqual([]);
  });

  it('answers only 200 or a documented 503 problem (quorum_unavailable, audit_unavailable, not_ready)', () => {
    expect(failures('responses')).toEqual([]);
  });

  it('every token a client received verifies against the JWKS and has its audit record (token_sha256, jti, index)', () => {
    expect(failures('tokens')).toEqual([]);
    expect(report!.unverifiable).toBe(0);
    expect(report!.lost).toBe(0);
    expect(report!.tokensWithAuditRecord).toBe(report!.tokensIssued);
  });

  it('the audit log verifies end to end (ztmint audit verify: chain intact, no torn record)', () => {
    expect(failures('audit')).toEqual([]);
    expect(report!.auditVerify.status).toBe(0);
  });

  it('no mint succeeded while fewer than t signers were up', () => {
    expect(failures('quorum')).toEqual([]);
    expect(report!.quorumViolations).toEqual([]);
  });

  it('mints resumed by themselves after every fault', () => {
    expect(failures('faults')).toEqual([]);
  });
});

function printReport(r: ChaosReport): void {
  const lines = [
    `chaos report (${r.durationS} s, concurrency ${CONCURRENCY})`,
    `  attempts ${r.attempts}; tokens issued ${r.tokensIssued}, verified ${r.tokensVerified}, with audit record ${r.tokensWithAuditRecord}; lost ${r.lost}, unverifiable ${r.unverifiable}`,
    `  audit records ${r.auditRecords.total} (mint ${r.auditRecords.mint}, deny ${r.auditRecords.deny}, torn ${r.auditRecords.torn}); audited but not delivered ${r.auditedNotDelivered}; audit verify exit ${r.auditVerify.status}: ${r.auditVerify.output}`,
    `  responses ${JSON.stringify(r.responses)}`,
    `  503 by code ${JSON.stringify(r.serviceUnavailableByCode)}; transport errors ${JSON.stringify(r.transportErrors)}`,
    `  quorum violations ${r.quorumViolations.length}; 200s in flight across a below-quorum boundary ${r.boundaryMints}`,
    `  fault methods ${JSON.stringify(r.methods)}`,
    '  faults:',
    ...r.faults.map(
      (f) =>
        `    - ${f.name} [${f.how}]${f.inflight !== undefined ? ` in flight ${f.inflight}` : ''}: resumed after ${f.resumeMs ?? '-'} ms; failures inside ${JSON.stringify(f.failedDuring)}${f.note ? `; ${f.note}` : ''}`,
    ),
    ...(r.failures.length ? ['  FAILURES:', ...r.failures.slice(0, 40).map((f) => `    ${f}`)] : ['  no failures']),
  ];
  console.log(lines.join('\n'));
}
