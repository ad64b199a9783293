// The rules behind "insecure choices are loud" (config/insecure-choices.ts) and the comparison
// behind /readyz's `disagreeing` (coordinator/signer-agreement.ts), in process.
import { describe, expect, it } from 'vitest';
import { checkInsecureChoices, httpIssuerChoices } from '../config/insecure-choices.js';
import { isZtmintError } from '../errors/ztmint-error.js';
import { signerDisagreements } from '../coordinator/signer-agreement.js';
import type { SignerInfo } from '../protocol/wire.js';
import { startDevIssuer } from '../cli/dev-issuer.js';
import { OidcVerifier } from '../oidc/verifier.js';

describe('insecure choices', () => {
  it('an http:// issuer or JWKS URL is a choice; https:// is none', () => {
    expect(httpIssuerChoices([{ issuer: 'https://token.actions.githubusercontent.com' }], false)).toEqual([]);
    const choices = httpIssuerChoices([{ issuer: 'http://127.0.0.1:1' }, { issuer: 'https://ghes.example/_services/token', jwksUri: 'http://ghes.example/keys' }], false);
    expect(choices.map((c) => [c.flag, c.allowed])).toEqual([
      ['--insecure-allow-http-issuer', false],
      ['--insecure-allow-http-issuer', false],
    ]);
    expect(choices[1]!.warning).toContain('the JWKS URL http://ghes.example/keys');
  });

  it('refuses the first choice its flag does not allow, naming the flag; returns the warnings otherwise', () => {
    let err: unknown;
    try {
      checkInsecureChoices(httpIssuerChoices([{ issuer: 'http://127.0.0.1:1' }], false));
    } catch (e) {
      err = e;
    }
    expect(isZtmintError(err, 'insecure_choice_refused')).toBe(true);
    expect((err as Error).message).toMatch(/^refusing to start: OIDC issuer http:\/\/127\.0\.0\.1:1 is not https:\/\/.*pass --insecure-allow-http-issuer/);
    expect(checkInsecureChoices(httpIssuerChoices([{ issuer: 'http://127.0.0.1:1' }], true))).toEqual(['OIDC issuer http://127.0.0.1:1 is not https://: its keys can be replaced in transit']);
    expect(checkInsecureChoices([])).toEqual([]);
  });
});

describe('OIDC verifier: keys only over https unless allowed', () => {
  it('refuses to fetch a JWKS from an http:// URL when the services ask for https', async () => {
    const issuer = await startDevIssuer({ host: '127.0.0.1', audience: () => 'https://ztmint.example.com' });
    try {
      const strict = new OidcVerifier({ issuers: [{ issuer: issuer.url }], audience: 'https://ztmint.example.com', requireHttpsJwks: true });
      await expect(strict.verify(await issuer.issue())).rejects.toMatchObject({ code: 'issuer_unavailable' });
      const allowed = new OidcVerifier({ issuers: [{ issuer: issuer.url }], audience: 'https://ztmint.example.com' });
      await expect(allowed.verify(await issuer.issue())).resolves.toMatchObject({ repository: 'acme/webapp' });
    } finally {
      await issuer.close();
    }
  });
});

describe('signer agreement', () => {
  const expected = { groupPublicKey: 'G', policyRevision: 'a'.repeat(64), tokenIssuer: 'https://ztmint.example.com', oidcIssuers: ['https://token.actions.githubusercontent.com'] };
  const info = (extra: Partial<SignerInfo> = {}): SignerInfo => ({
    identifier: '0'.repeat(64),
    group_public_key: 'G',
    verifying_share: 'V',
    threshold: 2,
    signers: 3,
    token_issuer: expected.tokenIssuer,
    oidc_issuers: [...expected.oidcIssuers, 'https://other.example'],
    policy_revisions: ['b'.repeat(64), expected.policyRevision],
    ...extra,
  });

  it('agrees when the signer accepts what the coordinator uses (it may accept more)', () => {
    expect(signerDisagreements(info(), expected)).toEqual([]);
  });

  it('names each of the four differences with its code', () => {
    const all = signerDisagreements(info({ group_public_key: 'H', policy_revisions: ['b'.repeat(64)], token_issuer: 'https://other.example', oidc_issuers: [] }), expected);
    expect(all.map((d) => d.code)).toEqual(['group_mismatch', 'policy_mismatch', 'issuer_mismatch', 'oidc_issuer_mismatch']);
    expect(all[2]!.detail).toContain('https://other.example');
  });

  it('does not judge what an older signer does not report', () => {
    const { token_issuer, oidc_issuers, policy_revisions, ...old } = info();
    void [token_issuer, oidc_issuers, policy_revisions];
    expect(signerDisagreements(old, expected)).toEqual([]);
  });
});
