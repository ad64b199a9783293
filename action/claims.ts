// Decoding (not verifying) the claims of GitHub's OIDC token, to show what the coordinator's
// policy will match against. Only the payload's claims are ever shown: never the header,
// the signature, or the encoded token (or any piece of it).

export type Claims = Record<string, unknown>;

/** The payload of a JWS compact JWT as an object, or undefined if it is not one. */
export function decodeClaims(jwt: string): Claims | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Claims) : undefined;
  } catch {
    return undefined;
  }
}

// The claims that grants usually match on come first; the rest follow in alphabetical order.
const FIRST = ['sub', 'repository', 'repository_owner', 'ref', 'ref_type', 'environment', 'workflow_ref', 'job_workflow_ref', 'event_name', 'actor', 'aud', 'iss'];
const TIMES = new Set(['iat', 'nbf', 'exp']);

/** One `name: value` line per claim; times also as ISO 8601. */
export function formatClaims(claims: Claims): string[] {
  const names = [
    ...FIRST.filter((n) => n in claims),
    ...Object.keys(claims)
      .filter((n) => !FIRST.includes(n))
      .sort(),
  ];
  return names.map((name) => {
    const value = claims[name];
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    const time = TIMES.has(name) && typeof value === 'number' ? ` (${new Date(value * 1000).toISOString()})` : '';
    return `${name}: ${shown}${time}`;
  });
}
