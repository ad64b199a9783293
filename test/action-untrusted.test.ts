// Unit tests of the Action's defences against a hostile coordinator (issue 11), without any
// process: log escaping (log-text.ts), redaction of echoed secrets (secrets.ts), the strict
// checks of the mint answer (mint-response.ts, untrusted-values.ts) and bounded body reads
// (response-body.ts). The same defences run end to end in test/action-hostile*.e2e.test.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../action/coordinator-error.js';
import { InputError } from '../action/inputs.js';
import { logSafe, MAX_LINE_CHARS, untrusted } from '../action/log-text.js';
import { parseMintResponse } from '../action/mint-response.js';
import { readBoundedBody } from '../action/response-body.js';
import { redact } from '../action/secrets.js';
import { isCompactJws, parseRfc3339, readMintedToken } from '../action/untrusted-values.js';
import { ZtmintError } from '../errors/ztmint-error.js';
import { ownCommandViolations, parseRunnerCommands } from './helpers/runner-log.js';

const NO_COMMANDS = { masks: [], groups: [] };
const ATTACKS = [
  '::error::x',
  '  ::stop-commands::pwned',
  'a\n::error::x',
  'a\r::error::x',
  'a\r\n::add-mask::deploy',
  'a ##[stop-commands]legacy',
  '##[error]x',
  '\t\u00a0\u3000::warning::unicode spaces',
  'a\u0085::error::NEL',
  'a\u2028::error::LS',
  'bell\u0007 esc\u001b[31m del\u007f c1\u009b',
  'lone \ud800 surrogate',
];

describe('log-text', () => {
  it.each(ATTACKS)("logSafe(%j) writes no command by the runner's rules", (attack) => {
    for (const text of [attack, `prefix ${attack}`, `${attack}\n${attack}`]) {
      const out = logSafe(text);
      expect(ownCommandViolations(out, NO_COMMANDS)).toEqual([]);
      expect(out).not.toMatch(/[\r\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    }
  });

  it.each(ATTACKS)('untrusted(%j) is one line that stays harmless wherever it is put', (attack) => {
    const piece = untrusted(attack);
    expect(piece).not.toMatch(/[\n\r]/);
    for (const text of [piece, `x#${piece}`, `${piece}${piece}`, `ok\n${piece}`]) {
      expect(parseRunnerCommands(logSafe(text))).toEqual([]);
    }
  });

  it('shows escapes, keeps our own line breaks, cuts long lines', () => {
    expect(untrusted('a\nb\u001b')).toBe('a\\x0ab\\x1b');
    expect(logSafe('one\ntwo\r')).toBe('one\ntwo\\x0d');
    expect(logSafe('::error::x')).toBe('\\x3a:error::x');
    expect(logSafe('a ##[b')).toBe('a ##\\x5bb');
    const long = logSafe('x'.repeat(MAX_LINE_CHARS + 10));
    expect(long).toBe(`${'x'.repeat(MAX_LINE_CHARS)}… (10 more characters)`);
  });
});

describe('redact', () => {
  const token = `${'h'.repeat(20)}.${'PAYLOAD0123456789'.repeat(4)}.${'SIGNATURE-abcdefghij'.repeat(3)}`;

  it('leaves no run of 32 characters of a token that was echoed with a character slipped in', () => {
    const mid = Math.floor(token.length / 2);
    const echoed = untrusted(`${token.slice(0, mid)}\u001b${token.slice(mid)}`);
    const out = redact(echoed, [token]);
    for (let i = 0; i + 32 <= token.length; i++) expect(out).not.toContain(token.slice(i, i + 32));
  });

  it('does not cut PEM armour lines out of messages', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nS0VZLUxJTkUtT05FLVNFQ1JFVA\n-----END PRIVATE KEY-----\n';
    expect(redact('-----BEGIN PRIVATE KEY----- is expected', [pem])).toBe('-----BEGIN PRIVATE KEY----- is expected');
  });
});

describe('untrusted values', () => {
  it('RFC 3339 strictly: no Date.parse leniency, no impossible dates', () => {
    expect(parseRfc3339('2030-01-01T00:15:00Z')).toBe(Date.parse('2030-01-01T00:15:00Z'));
    expect(parseRfc3339('2030-01-01t00:15:00.123456789+01:30')).toBe(Date.parse('2030-01-01T00:15:00.123+01:30'));
    expect(parseRfc3339('2028-02-29T00:00:00Z')).toBeDefined();
    for (const bad of [
      'Jan 1 2030 (\n::error::x\n)',
      '2030-01-01',
      '2030-01-01 00:15:00Z',
      '2030-02-30T00:00:00Z',
      '2029-02-29T00:00:00Z',
      '2030-01-01T24:00:00Z',
      '2030-01-01T00:00:00',
      ' 2030-01-01T00:00:00Z',
      1893456900,
    ]) {
      expect(parseRfc3339(bad), String(bad)).toBeUndefined();
    }
  });

  it('a compact JWS of bounded length, whose header says EdDSA', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(isCompactJws('a.b.c')).toBe(true);
    for (const bad of ['a.b', 'a.b.c\n', 'a.b.c.d', 'a.b=.c', `a.${'b'.repeat(16 * 1024)}.c`, 42]) expect(isCompactJws(bad)).toBe(false);
    expect(readMintedToken(`${b64({ alg: 'EdDSA' })}.${b64({ exp: 1 })}.sig`)).toBeDefined();
    expect(readMintedToken(`${b64({ alg: 'none' })}.${b64({ exp: 1 })}.sig`)).toBeUndefined();
    expect(readMintedToken(`${b64({ alg: 'EdDSA' })}.${b64([1])}.sig`)).toBeUndefined();
  });

  it('parseMintResponse: fields agree with each other, the token and the clock', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Date.parse('2030-01-01T00:00:00Z');
    const exp = now / 1000 + 900;
    const token = `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64({ jti: 'abc_DEF-1', iat: exp - 900, exp })}.sig`;
    const body = { token, token_type: 'Bearer', expires_at: '2030-01-01T00:15:00.000Z', expires_in: 900, jti: 'abc_DEF-1', scopes: ['deploy:canary'], audience: 'https://x', audit: { index: 3 } };
    expect(parseMintResponse(body, now)).toMatchObject({ jti: 'abc_DEF-1', expiresIn: 900, auditIndex: 3, audience: 'https://x' });
    // The runner's clock ten minutes off: refused, with advice about clocks.
    expect(() => parseMintResponse(body, now + 600_000)).toThrow(/check the runner's and the coordinator's clocks/);
    for (const [field, value] of [
      ['expires_in', 0],
      ['expires_in', 1.5],
      ['audit', { index: -1 }],
      ['scopes', ['a b']],
      ['scopes', Array.from({ length: 101 }, (_, i) => `s${i}`)],
      ['audience', 'has space'],
      ['token_type', 'MAC'],
    ] as const) {
      let err: unknown;
      try {
        parseMintResponse({ ...body, [field]: value }, now);
      } catch (e) {
        err = e;
      }
      expect(err, `${field}: ${JSON.stringify(value)}`).toBeInstanceOf(CoordinatorError);
      expect((err as CoordinatorError).code).toBe('malformed_response');
      if (typeof value === 'string') expect((err as Error).message).not.toContain(value);
    }
  });

  it("parseMintResponse: a transparency proof must be this token's mint record, well formed", () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Date.parse('2030-01-01T00:00:00Z');
    const exp = now / 1000 + 900;
    const token = `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64({ jti: 'abc_DEF-1', iat: exp - 900, exp })}.sig`;
    const entry = JSON.stringify({ event: 'mint', index: 3, jti: 'abc_DEF-1', token_sha256: createHash('sha256').update(token).digest('hex') });
    const hash = Buffer.alloc(32, 1).toString('base64');
    const checkpoint = `ztmint.example/tlog\n4\n${hash}\n\n\u2014 ztmint.example/tlog AAAAAA==\n`;
    const transparency = { log_index: 3, entry, checkpoint, inclusion_proof: [hash, hash] };
    const body = { token, token_type: 'Bearer', expires_at: '2030-01-01T00:15:00.000Z', expires_in: 900, jti: 'abc_DEF-1', scopes: ['deploy:canary'], audit: { index: 3 }, transparency };
    expect(parseMintResponse(body, now).transparency).toEqual(transparency);
    expect(parseMintResponse({ ...body, transparency: undefined }, now).transparency).toBeUndefined();
    for (const bad of [
      { ...transparency, log_index: 2 },
      { ...transparency, entry: entry.replace('"index":3', '"index":4') },
      { ...transparency, entry: entry.replace(/"token_sha256":"[0-9a-f]+"/, `"token_sha256":"${'0'.repeat(64)}"`) },
      { ...transparency, entry: 'not json' },
      { ...transparency, checkpoint: 'ztmint.example/tlog\n4\n' },
      { ...transparency, inclusion_proof: ['short'] },
      'a string',
    ]) {
      expect(() => parseMintResponse({ ...body, transparency: bad }, now), JSON.stringify(bad)).toThrow(CoordinatorError);
    }
  });
});

describe('bounded body reads', () => {
  function streamOf(chunks: number, size: number) {
    let sent = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < chunks) controller.enqueue(new Uint8Array(size));
        else controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    return { body, pulled: () => sent, cancelled: () => cancelled };
  }

  it('stops at the limit, aborts the connection and cancels the body, without reading on', async () => {
    const s = streamOf(1_000_000, 1024); // about 1 GiB if read to the end
    let aborted = false;
    const read = await readBoundedBody(new Response(s.body), 16 * 1024, () => (aborted = true));
    expect(read.tooLarge).toBe(true);
    expect(aborted).toBe(true);
    expect(s.cancelled()).toBe(true);
    expect(s.pulled()).toBeLessThan(40);
  });

  it('refuses a declared Content-Length above the limit before reading', async () => {
    const s = streamOf(10, 1024);
    let aborted = false;
    const res = new Response(s.body, { headers: { 'content-length': String(50 * 1024 * 1024) } });
    const read = await readBoundedBody(res, 64 * 1024, () => (aborted = true));
    expect(read).toEqual({ bytes: undefined, tooLarge: true });
    expect(aborted).toBe(true);
  });

  it('returns a body within the limit', async () => {
    const read = await readBoundedBody(new Response('{"ok":true}'), 16, () => undefined);
    expect(read.tooLarge).toBe(false);
    expect(read.bytes?.toString()).toBe('{"ok":true}');
  });
});

describe('errors', () => {
  it("the Action's errors are ZtmintErrors with stable codes and options objects", () => {
    const cause = new Error('socket hang up');
    const e = new CoordinatorError('coordinator_unreachable', 'm', { retryable: true, status: 503, cause });
    expect(e).toBeInstanceOf(ZtmintError);
    expect(e).toMatchObject({ code: 'coordinator_unreachable', retryable: true, status: 503, cause, name: 'CoordinatorError' });
    const i = new InputError('bad input');
    expect(i).toBeInstanceOf(ZtmintError);
    expect(i).toMatchObject({ code: 'invalid_input', name: 'InputError' });
  });
});
