// Every error a caller may branch on is a ZtmintError with a stable code and its context in an
// options object; ProblemError's problem+json document is exactly what it was before the move.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnpVerifyError } from '../attestation/sev-snp/errors.js';
import { DkgRelayError } from '../coordinator/dkg-relay.js';
import { SignerRefused, SignerUnavailable } from '../coordinator/signer-client.js';
import { isZtmintError, ZtmintError } from '../errors/ztmint-error.js';
import { AggregationError } from '../protocol/ciphersuite.js';
import { FrostAggregateFailure } from '../protocol/frost/sign.js';
import { ShareSchemeError } from '../protocol/frost/vss.js';
import { PkiError } from '../pki/errors.js';
import { ProblemError } from '../protocol/problem.js';
import { DkgAbort, DkgStepError } from '../signers/dkg.js';
import { SealError } from '../signers/key-providers/types.js';
import { ContextMismatch } from '../signers/mint-check.js';
import { CheckpointRefused } from '../signers/checkpoint-guard.js';
import { InsecureChoiceRefused } from '../config/insecure-choices.js';

const ROOT = join(import.meta.dirname, '..');

describe('ZtmintError subclasses', () => {
  const cause = new Error('underlying');
  const cases: Array<[string, ZtmintError, string]> = [
    ['ProblemError', new ProblemError('policy_denied', 'no', { reasons: ['r'], cause }), 'policy_denied'],
    ['SignerUnavailable', new SignerUnavailable('signer_unreachable', 'signer-1 unreachable', { cause }), 'signer_unreachable'],
    ['SignerRefused', new SignerRefused('context_mismatch', 'signer-1 refused', { signer: 'signer-1', status: 403, cause }), 'context_mismatch'],
    ['DkgRelayError', new DkgRelayError('signer_refused', 'refused', { step: 'round3', signer: 'signer-3', reason: 'decrypt_failed', cause }), 'signer_refused'],
    ['FrostAggregateFailure', new FrostAggregateFailure('invalid_shares', 'bad', { culprits: ['01'], cause }), 'invalid_shares'],
    ['AggregationError', new AggregationError('malformed_input', 'bad', { cause }), 'malformed_input'],
    ['SnpVerifyError', new SnpVerifyError('tcb', 'too old', { cause }), 'tcb'],
    ['ContextMismatch', new ContextMismatch('jti_reused', 'again', { cause }), 'jti_reused'],
    ['CheckpointRefused', new CheckpointRefused('checkpoint_refused', 'fork', { cause }), 'checkpoint_refused'],
    ['DkgAbort', new DkgAbort('decrypt_failed', 'tampered', { cause }), 'decrypt_failed'],
    ['DkgStepError', new DkgStepError('wrong_step', 'late', { cause }), 'wrong_step'],
    ['SealError', new SealError('wrong_pin', 'wrong PIN', { cause }), 'wrong_pin'],
    ['ShareSchemeError', new ShareSchemeError('share_invalid', 'off its commitment', { culprit: '01', cause }), 'share_invalid'],
    ['PkiError', new PkiError('pki_no_ca', 'no CA key', { cause }), 'pki_no_ca'],
    ['InsecureChoiceRefused', new InsecureChoiceRefused('insecure_choice_refused', 'refusing to start', { cause }), 'insecure_choice_refused'],
  ];

  it.each(cases)('%s is a ZtmintError with its name, code and cause', (name, err, code) => {
    expect(err).toBeInstanceOf(ZtmintError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(err.cause).toBe(cause);
    expect(isZtmintError(err, code)).toBe(true);
    expect(isZtmintError(err, 'some_other_code')).toBe(false);
  });

  it('leaves cause unset when none is given', () => {
    expect(Object.hasOwn(new SealError('config', 'x'), 'cause')).toBe(false);
  });

  it('keeps the context of the options object on the error', () => {
    const refused = new SignerRefused('session_unknown', 'm', { signer: 'signer-2', status: 409 });
    expect([refused.signer, refused.status]).toEqual(['signer-2', 409]);
    const relay = new DkgRelayError('signer_refused', 'm', { step: 'round3', signer: 'signer-3', reason: 'decrypt_failed' });
    expect([relay.step, relay.signer, relay.reason]).toEqual(['round3', 'signer-3', 'decrypt_failed']);
    expect(new AggregationError('invalid_shares', 'm', { culprits: ['02'] }).culprits).toEqual(['02']);
    expect(new AggregationError('signature_invalid', 'm').culprits).toEqual([]);
    expect(new SnpVerifyError('measurement', 'differs').message).toBe('snp measurement: differs');
  });
});

describe('ProblemError', () => {
  it('serialises to the same problem document as before', () => {
    const err = new ProblemError('policy_denied', 'the policy does not allow this request', { reasons: ['no rule grants deploy'] });
    expect(err.status).toBe(403);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      type: 'urn:ztmint:error:policy_denied',
      title: 'Denied by policy',
      status: 403,
      detail: 'the policy does not allow this request',
      code: 'policy_denied',
      reasons: ['no rule grants deploy'],
    });
    // Neither the cause nor retryAfter leaks into the document.
    const limited = new ProblemError('rate_limited', 'slow down', { retryAfter: 7, cause: new Error('secret-ish') });
    expect(limited.retryAfter).toBe(7);
    expect(JSON.stringify(limited)).toBe('{"type":"urn:ztmint:error:rate_limited","title":"Too many requests","status":429,"detail":"slow down","code":"rate_limited"}');
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['node_modules', 'build', 'dist', 'action', 'test', '.git', '.opa'].includes(name) ? [] : sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('the one error base class', () => {
  it('is the only class outside action/ that extends Error directly', () => {
    const direct = sources(ROOT)
      .filter((path) => /class \w+(<[^>]*>)? extends (Error|TypeError|RangeError)\b/.test(readFileSync(path, 'utf8')))
      .map((path) => relative(ROOT, path));
    expect(direct).toEqual(['errors/ztmint-error.ts']);
  });
});
