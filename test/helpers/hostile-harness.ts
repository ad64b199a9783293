// Shared by the hostile-coordinator suites (test/action-hostile*.e2e.test.ts): runs a step of
// the committed bundle against a programmable loopback server, then checks its output with the
// runner's own rules (helpers/runner-log.ts): only the Action's own commands, no secret that
// the runner would show, file commands that hold only the Action's own names.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { CLAIMS_GROUP } from '../../action/run.js';
import { STATE } from '../../action/state.js';
import { startRawServer, type RawHandler, type RawServer } from './raw-http.js';
import { ownCommandViolations, unmaskedSecrets } from './runner-log.js';
import { runStep, startRunnerOidc, type RunnerOidc, type StepOptions, type StepResult } from './runner.js';

/**
 * Every way the issue found to turn a field into a command: CR, LF and CRLF before `::`, `::`
 * after white space at the start, the legacy `##[` with no line break, ESC/BEL, and the line
 * breaks .NET or a log viewer might honour (U+2028, NEL).
 */
export const HOSTILE =
  '::error::AT-START\r::stop-commands::pwned\n::error::INJECTED-LF\r\n  ::add-mask::deploy ##[stop-commands]legacy ' +
  '\u001b[31mESC\u0007BEL\u2028::warning::LS\u0085::error::NEL ::save-state name=x::y';

const OUTPUT_NAMES = ['token', 'expires-at', 'jti', 'scopes', 'audit-index', 'log-index', 'transparency-proof'];

export interface HostileStep {
  step: StepResult;
  /** OIDC tokens the runner stand-in handed out during the step. */
  issued: string[];
}

/** Runs a step and records which OIDC tokens it was given. */
async function runHostile(entry: 'main' | 'post', oidc: RunnerOidc, url: string, inputs: Record<string, string> = {}, opts: StepOptions = {}): Promise<HostileStep> {
  const before = oidc.issued.length;
  const step = await runStep(entry, {
    timeoutMs: 120_000,
    ...opts,
    inputs: { 'coordinator-url': url, scopes: 'deploy:canary', 'timeout-seconds': '20', ...inputs },
    env: { ...oidc.env, ...opts.env },
  });
  return { step, issued: oidc.issued.slice(before) };
}

export interface CleanOptions {
  /** The token the server sent (whatever it was), if any: it must never show either. */
  minted?: string;
  /** Whether the minted token is expected in the outputs (a successful mint). */
  mintSucceeded?: boolean;
  /** More secrets the Action may mask and must never show (e.g. the token on a line of hostile state). */
  also?: string[];
}

/** The output of a step holds only the Action's commands, shows no secret, and its file commands only its own names. */
export function expectClean({ step, issued }: HostileStep, opts: CleanOptions = {}): void {
  const secrets = [...issued, ...(opts.minted ? [opts.minted] : []), ...(opts.also ?? [])];
  for (const stream of [step.stdout, step.stderr]) {
    expect(ownCommandViolations(stream, { masks: secrets, groups: [CLAIMS_GROUP] })).toEqual([]);
  }
  const tokenFree: Record<string, string> = { stderr: step.stderr, 'job summary': step.summary };
  if (!opts.mintSucceeded) Object.assign(tokenFree, { GITHUB_OUTPUT: step.files.output, GITHUB_ENV: step.files.env, GITHUB_STATE: step.files.state });
  expect(unmaskedSecrets(step.stdout, secrets, tokenFree)).toEqual([]);
  // The OIDC tokens never go anywhere but the Authorization header.
  expect(unmaskedSecrets('', issued, { GITHUB_OUTPUT: step.files.output, GITHUB_ENV: step.files.env, GITHUB_STATE: step.files.state })).toEqual([]);
  for (const name of Object.keys(step.outputs)) expect(OUTPUT_NAMES).toContain(name);
  for (const name of Object.keys(step.state)) expect(Object.values(STATE) as string[]).toContain(name);
}

/** The `::error::` annotation of a failed step, unescaped. */
export function errorOf(step: StepResult): string {
  const line = step.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
  return line.slice('::error::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** The `::warning::` annotations of a step, unescaped. */
export function warningsOf(step: StepResult): string[] {
  return step.stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning::'))
    .map((l) => l.slice('::warning::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
}

/**
 * The fixtures every hostile suite shares, registered in the calling file: one runner OIDC stand-in
 * for the file, and programmable raw servers closed after each test.
 */
export function useHostileFixtures() {
  let oidc: RunnerOidc | undefined;
  const cleanup: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    oidc = await startRunnerOidc();
  });
  afterAll(async () => {
    await oidc?.close();
  });
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });
  return {
    /** A raw HTTP server on loopback answering with `handler`, closed after the test. */
    async server(handler: RawHandler): Promise<RawServer> {
      const s = await startRawServer(handler);
      cleanup.push(() => s.close());
      return s;
    },
    /** One step of the committed bundle against `url`, as runHostile runs it. */
    run(entry: 'main' | 'post', url: string, inputs: Record<string, string> = {}, opts: StepOptions = {}): Promise<HostileStep> {
      if (!oidc) throw new Error('useHostileFixtures: the OIDC stand-in is not started (call it at the top of a test file)');
      return runHostile(entry, oidc, url, inputs, opts);
    },
  };
}
