// The dev stack's demo: fetch an ID token the way the runner does, mint, and verify the result
// with a standard JOSE library against the coordinator's published JWKS.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { createHash } from 'node:crypto';

export interface DemoResult {
  claims: JWTPayload;
  response: Record<string, unknown>;
  tokenSha256: string;
}

export async function demoMint(stack: { coordinator: string; requestUrl: string; requestToken: string }): Promise<DemoResult> {
  const idRes = await fetch(`${stack.requestUrl}&audience=${encodeURIComponent(stack.coordinator)}`, {
    headers: { authorization: `Bearer ${stack.requestToken}` },
  });
  const { value: oidcToken } = (await idRes.json()) as { value: string };
  const res = await fetch(`${stack.coordinator}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${oidcToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`demo mint failed: ${res.status} ${String(body.code)}: ${String(body.detail)}`);
  const token = String(body.token);
  const jwks = createRemoteJWKSet(new URL(`${stack.coordinator}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { algorithms: ['EdDSA'], issuer: stack.coordinator });
  const { token: _secret, ...response } = body;
  return { claims: payload, response, tokenSha256: createHash('sha256').update(token).digest('hex') };
}
