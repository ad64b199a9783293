// Parsing and validation of the action's inputs (see action.yml).
//
// Everything here is pure: it takes a `getInput` function so that it can be
// tested without environment variables.

/** The inputs of the action, validated and normalised. */
export interface ActionInputs {
  /** Coordinator base URL, without a trailing slash. */
  coordinatorUrl: string;
  /** Requested scopes, in input order, without duplicates. */
  scopes: string[];
  /** Requested lifetime in seconds, if given. */
  ttl?: number;
  /** Audience of the minted token, if given. */
  audience?: string;
  /** Audience to request for GitHub's OIDC token. */
  oidcAudience: string;
}

/** A problem with the inputs; its message names the input and what to change. */
export class InputError extends Error {
  override name = 'InputError';
}

export type GetInput = (name: string, options?: { required?: boolean }) => string;

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits the `scopes` input on commas and newlines, trims, drops empty items and duplicates. */
export function parseScopes(raw: string): string[] {
  const scopes: string[] = [];
  for (const part of raw.split(/[,\r\n]/)) {
    const scope = part.trim();
    if (scope === '') continue;
    if (!SCOPE_TOKEN.test(scope)) {
      throw new InputError(
        `input \`scopes\`: ${JSON.stringify(scope)} is not a valid scope ` +
          '(no spaces, quotes or backslashes; separate scopes with commas or newlines)',
      );
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  if (scopes.length === 0) {
    throw new InputError(
      'input `scopes` is empty: list at least one scope, e.g. `scopes: deploy:canary` ' +
        '(separate several with commas or newlines)',
    );
  }
  return scopes;
}

/** Parses the `ttl` input: empty means "not given", otherwise a positive integer of seconds. */
export function parseTtl(raw: string): number | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InputError(
      `input \`ttl\`: ${JSON.stringify(value)} is not a positive whole number of seconds (e.g. \`ttl: 900\`)`,
    );
  }
  return n;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '[::1]' ||
    /^127(\.[0-9]{1,3}){3}$/.test(h)
  );
}

/**
 * Validates the `coordinator-url` input and returns it without trailing slashes.
 * https is required, except for loopback hosts (the local dev stack), because
 * the OIDC token and the minted token travel over this connection.
 */
export function parseCoordinatorUrl(raw: string): string {
  const value = raw.trim();
  if (value === '') {
    throw new InputError('input `coordinator-url` is required, e.g. `coordinator-url: https://ztmint.example.com`');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      `input \`coordinator-url\`: ${JSON.stringify(value)} is not an absolute URL ` +
        '(e.g. `https://ztmint.example.com`)',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new InputError(
      `input \`coordinator-url\`: ${JSON.stringify(value)} must use https:// ` +
        '(plain http:// is only accepted for localhost / 127.0.0.1 / [::1])',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new InputError('input `coordinator-url` must not contain a user name or password');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InputError(
      'input `coordinator-url` must not contain a query (`?`) or fragment (`#`): give the base URL only',
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** Reads and validates every input. Throws InputError on the first bad one. */
export function readInputs(getInput: GetInput): ActionInputs {
  const coordinatorUrl = parseCoordinatorUrl(getInput('coordinator-url'));
  const scopes = parseScopes(getInput('scopes'));
  const ttl = parseTtl(getInput('ttl'));
  const audience = getInput('audience').trim();
  const oidcAudience = getInput('oidc-audience').trim();
  const inputs: ActionInputs = {
    coordinatorUrl,
    scopes,
    oidcAudience: oidcAudience === '' ? coordinatorUrl : oidcAudience,
  };
  if (ttl !== undefined) inputs.ttl = ttl;
  if (audience !== '') inputs.audience = audience;
  return inputs;
}
