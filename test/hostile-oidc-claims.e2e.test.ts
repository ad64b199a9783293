// The dev issuer signs whatever claim overrides it is given (test/dev-issuer.test.ts); here the
// coordinator and its signers receive such tokens through the real process tree and must answer
// each with a decision or a 4xx problem document, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;
beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

const HOSTILE: Array<Record<string, unknown>> = [
  { exp: 'never' }, { iat: 'now', nbf: '', exp: '1e9' }, { exp: { s: 5 } }, { exp: [1, 2] }, { exp: true }, { exp: 1.5 },
  { exp: -1 }, { exp: 1e300 }, { exp: null }, { iat: null }, { nbf: null }, { iat: 1e300 }, { nbf: -1e300 },
  { aud: null }, { aud: { x: 1 } }, { aud: [] }, { aud: 7 }, { iss: null }, { iss: ['a'] }, { iss: 7 },
  { sub: null }, { sub: 1 }, { sub: '\udc00' }, { jti: 5 }, { jti: '' }, { repository: 12 }, { repository: null },
  { repository: 'acme/webapp\ud800' }, { repository: 'acme/*' }, { ref: ['x'] }, { ref: 'refs/heads/**' }, { run_id: 12345 },
  { environment: { a: [1] } }, { workflow_ref: '\ud800' }, { '\ud800': 'x' }, { event_name: null }, { repository_owner: 5 },
  { actor: 'x'.repeat(4000) }, { runner_environment: 1e21 },
];

describe('hostile OIDC claims reach the coordinator', () => {
  it.each(HOSTILE.map((o) => [JSON.stringify(o), o] as const))('%s: a decision or a 4xx problem, never 5xx', async (_name, overrides) => {
    const res = await stack.mint(await stack.idToken(overrides));
    expect(res.status).toBeLessThan(500);
    if (res.status !== 200) {
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(['invalid_token', 'policy_denied', 'payload_too_large']).toContain(res.body.code);
    }
  });
});
