// The Action against a coordinator that sends too much or too slowly (issue 11): oversized and
// endless bodies for the mint, its problem details and the revocation, bodies that trickle and
// answers that never come. Each step must fail (or, in the post step, warn) within its
// `timeout-seconds`, with the process's peak memory (getrusage maxRSS, recorded at exit) under
// 150 MiB, and with the same clean output as in action-hostile.e2e.test.ts.
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { errorOf, expectClean, useHostileFixtures } from './helpers/hostile-harness.js';
import { endlessBody, tricklingBody } from './helpers/raw-http.js';
import { fakeJwt } from './helpers/runner.js';

const PEAK_LIMIT_KIB = 150 * 1024;
const TIMEOUT_SECONDS = 8;
/** Time a busy machine may need on top of `timeout-seconds` to start node and exit. */
const SLACK_MS = 30_000;

// Each case runs one or more node processes; a busy machine may need a while (runHostile bounds each at 120 s).
vi.setConfig({ testTimeout: 300_000 });

const hostile = useHostileFixtures();
const server = hostile.server;

const head = (status: number, headers: Record<string, string>) =>
  `HTTP/1.1 ${status} X\r\n${Object.entries({ connection: 'close', ...headers })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;

/** A JSON body that starts like a mint answer and never ends: a token that grows forever. */
const startOfMint = (socket: Socket, status: number, headers: Record<string, string>) => endlessBody(socket, `${head(status, headers)}{"token":"${fakeJwt()}`, Buffer.alloc(64 * 1024, 'A'));

const inputs = { retries: '0', 'timeout-seconds': String(TIMEOUT_SECONDS) };

function expectBounded(step: { status: number | null; elapsedMs: number; peakRssKiB?: number }, status: number): void {
  expect(step.status).toBe(status);
  expect(step.elapsedMs).toBeLessThan(TIMEOUT_SECONDS * 1000 + SLACK_MS);
  expect(step.peakRssKiB, 'peak RSS was recorded').toBeDefined();
  expect(step.peakRssKiB!).toBeLessThan(PEAK_LIMIT_KIB);
}

describe('mint: oversized and endless bodies', () => {
  it('a 200 that declares 50 MB is refused before reading, with flat memory', async () => {
    const s = await server((_req, socket) => startOfMint(socket, 200, { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) }));
    const run = await hostile.run('main', s.url, inputs, { measureMemory: true });
    expectBounded(run.step, 1);
    expect(errorOf(run.step)).toMatch(/body larger than 64 KiB; the Action stopped reading it/);
    expectClean(run);
  });

  it('an endless 200 body (no length, sent as fast as it is read) is cut at 64 KiB', async () => {
    const s = await server((_req, socket) => startOfMint(socket, 200, { 'content-type': 'application/json' }));
    const run = await hostile.run('main', s.url, inputs, { measureMemory: true });
    expectBounded(run.step, 1);
    expect(errorOf(run.step)).toMatch(/body larger than 64 KiB/);
    expectClean(run);
  });

  it('an endless chunked 503 problem body is cut at 16 KiB', async () => {
    const s = await server((_req, socket) =>
      endlessBody(socket, `${head(503, { 'content-type': 'application/problem+json', 'transfer-encoding': 'chunked' })}`, Buffer.from(`4000\r\n${'{"detail":"'.padEnd(0x4000, 'x')}\r\n`)),
    );
    const run = await hostile.run('main', s.url, inputs, { measureMemory: true });
    expectBounded(run.step, 1);
    expect(errorOf(run.step)).toMatch(/HTTP 503 X with a body larger than the Action reads/);
    expectClean(run);
  });
});

describe('mint: slow servers', () => {
  it('a body that trickles one byte at a time ends at `timeout-seconds`', async () => {
    const s = await server((_req, socket) => tricklingBody(socket, head(200, { 'content-type': 'application/json' }), 100));
    const run = await hostile.run('main', s.url, inputs, { measureMemory: true });
    expectBounded(run.step, 1);
    expect(errorOf(run.step)).toMatch(/did not finish its answer in time/);
    expectClean(run);
  });

  it('headers that never come end at `timeout-seconds`', async () => {
    const s = await server(() => undefined);
    const run = await hostile.run('main', s.url, inputs, { measureMemory: true });
    expectBounded(run.step, 1);
    expect(errorOf(run.step)).toMatch(/did not answer .* within/);
    expectClean(run);
  });
});

describe('revoke: oversized, endless and slow bodies', () => {
  const state = () => {
    const token = fakeJwt();
    return {
      token,
      state: {
        token,
        'coordinator-url': '',
        jti: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string,
        'expires-at': new Date(Date.now() + 600_000).toISOString(),
        revoke: 'true',
      },
    };
  };

  it.each([
    // A 2xx is the revocation; its body is not needed, and is cut at 16 KiB.
    ['an endless 200 body', (socket: Socket) => endlessBody(socket, head(200, {}), Buffer.alloc(64 * 1024, 'A')), /^Revoked token jti=/m],
    [
      'an endless 503 problem body',
      (socket: Socket) => endlessBody(socket, head(503, { 'content-type': 'application/problem+json' }), Buffer.alloc(64 * 1024, '{')),
      /^::warning::could not revoke the token jti=.*HTTP 503 X with a body larger than the Action reads/m,
    ],
    ['a trickling body', (socket: Socket) => tricklingBody(socket, head(200, {}), 100), /^::warning::could not revoke the token jti=.*did not finish its answer in time/m],
  ] as const)('%s: the post step ends within `timeout-seconds`, with flat memory', async (_name, answer, outcome) => {
    const s = await server((_req, socket) => answer(socket));
    const { token, state: saved } = state();
    saved['coordinator-url'] = s.url;
    const run = await hostile.run('post', s.url, inputs, { state: saved, measureMemory: true });
    expectBounded(run.step, 0);
    expect(s.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`]);
    expect(run.step.stdout).toMatch(outcome);
    expectClean(run, { minted: token });
  });
});
