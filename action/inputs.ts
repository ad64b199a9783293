// Parsing and validation of the action's inputs (see action.yml).
//
// Everything here is pure: it takes a `getInput` function so that it can be
// tested without environment variables. Error messages name the input and say
// what to write instead; they never quote `client-key`.

import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';

/** TLS material for talking to the coordinator (all PEM text, never file paths). */
export interface TlsInputs {
  /** CA certificate(s) trusted for the coordinator, in addition to Node's bundled roots. */
  caCert?: string;
  /** Client certificate (chain) for mTLS. Set together with `clientKey`. */
  clientCert?: string;
  /** Private key of the client certificate. Secret. */
  clientKey?: string;
}

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
  /** Name of the environment variable to export the token to, if any. */
  exportEnv?: string;
  /** Whether the post step revokes the token. */
  revoke: boolean;
  tls: TlsInputs;
  /** Retries after the first attempt, for network errors and 429/502/503/504. */
  retries: number;
  /** Overall time limit in seconds (all attempts and waits together). */
  timeoutSeconds: number;
}

/** The inputs the post step reads again (the runner passes the step's inputs to `post` as well). */
export interface ConnectionInputs {
  tls: TlsInputs;
  retries: number;
  timeoutSeconds: number;
}

/** A problem with the inputs; its message names the input and what to change. */
export class InputError extends ZtmintError<'invalid_input'> {
  constructor(message: string, options: ZtmintErrorOptions = {}) {
    super('invalid_input', message, options);
  }
}

export type GetInput = (name: string, options?: { required?: boolean }) => string;

export const DEFAULT_RETRIES = 3;
export const MAX_RETRIES = 10;
export const DEFAULT_TIMEOUT_SECONDS = 120;
export const MAX_TIMEOUT_SECONDS = 3600;

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits the `scopes` input on commas and newlines, trims, drops empty items and duplicates. */
export function parseScopes(raw: string): string[] {
  const scopes: string[] = [];
  for (const part of raw.split(/[,\r\n]/)) {
    const scope = part.trim();
    if (scope === '') continue;
    if (!SCOPE_TOKEN.test(scope)) {
      throw new InputError(`input \`scopes\`: ${JSON.stringify(scope)} is not a valid scope ` + '(no spaces, quotes or backslashes; separate scopes with commas or newlines)');
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  if (scopes.length === 0) {
    throw new InputError('input `scopes` is empty: list at least one scope, e.g. `scopes: deploy:canary` ' + '(separate several with commas or newlines)');
  }
  return scopes;
}

/** Parses a whole number input within [min, max]; empty gives `fallback`. */
function parseWhole(name: string, raw: string, min: number, max: number, example: string): number | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(`input \`${name}\`: ${JSON.stringify(value)} is not ${example}`);
  }
  return n;
}

/** Parses the `ttl` input: empty means "not given", otherwise a positive integer of seconds. */
export function parseTtl(raw: string): number | undefined {
  return parseWhole('ttl', raw, 1, Number.MAX_SAFE_INTEGER, 'a positive whole number of seconds (e.g. `ttl: 900`)');
}

/** Parses `retries`: a whole number 0..10, default 3. */
export function parseRetries(raw: string): number {
  return parseWhole('retries', raw, 0, MAX_RETRIES, `a whole number from 0 to ${MAX_RETRIES} (e.g. \`retries: 3\`)`) ?? DEFAULT_RETRIES;
}

/** Parses `timeout-seconds`: a whole number 1..3600, default 120. */
export function parseTimeoutSeconds(raw: string): number {
  return parseWhole('timeout-seconds', raw, 1, MAX_TIMEOUT_SECONDS, `a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS} (e.g. \`timeout-seconds: 120\`)`) ?? DEFAULT_TIMEOUT_SECONDS;
}

/** Parses a boolean input the way the runner's YAML 1.2 core schema spells booleans; empty gives `fallback`. */
export function parseBoolean(name: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim();
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(`input \`${name}\`: ${JSON.stringify(value)} is not \`true\` or \`false\``);
}

// Variables the runner or this action depend on: exporting the token under one of these
// names would break the job or hand the token to something that does not expect it.
const RESERVED_ENV = /^(GITHUB_|RUNNER_|ACTIONS_|INPUT_|STATE_)/i;
const RESERVED_NAMES = new Set(['PATH', 'HOME', 'NODE_OPTIONS', 'CI', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']);

/** Parses `export-env`: empty (off) or an environment variable name. */
export function parseExportEnv(raw: string): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InputError(
      `input \`export-env\`: ${JSON.stringify(value)} is not an environment variable name ` + '(letters, digits and `_`, not starting with a digit; e.g. `export-env: DEPLOY_TOKEN`)',
    );
  }
  if (RESERVED_ENV.test(value) || RESERVED_NAMES.has(value.toUpperCase())) {
    throw new InputError(`input \`export-env\`: ${value} is reserved for the runner or the toolchain; choose another name, ` + 'e.g. `export-env: DEPLOY_TOKEN`');
  }
  return value;
}

/**
 * Normalises a PEM input: trims, turns CRLF into LF, and accepts a secret that was stored
 * on one line with literal `\n` escapes. Checks that it holds a PEM block of the right kind.
 */
export function parsePem(name: string, raw: string, kind: 'certificate' | 'private key'): string | undefined {
  let value = raw.trim();
  if (value === '') return undefined;
  if (!value.includes('\n') && value.includes('\\n')) value = value.split('\\n').join('\n');
  value = value.replace(/\r\n?/g, '\n');
  const label = kind === 'certificate' ? 'CERTIFICATE' : '(?:[A-Z0-9]+ )?PRIVATE KEY';
  const block = new RegExp(`-----BEGIN ${label}-----\n[\\s\\S]+?\n-----END ${label}-----`);
  if (!block.test(value)) {
    // Never quote the value: it may be a private key.
    const shown = kind === 'certificate' ? 'CERTIFICATE' : 'PRIVATE KEY';
    const source = kind === 'certificate' ? 'vars' : 'secrets';
    throw new InputError(
      `input \`${name}\` must be a ${kind} as PEM text (-----BEGIN ${shown}----- ... -----END ${shown}-----), ` +
        `not a file path; e.g. \`${name}: \${{ ${source}.ZTMINT_${name.toUpperCase().replace(/-/g, '_')} }}\``,
    );
  }
  return `${value}\n`;
}

/** Reads `ca-cert`, `client-cert` and `client-key`. */
export function readTlsInputs(getInput: GetInput): TlsInputs {
  const tls: TlsInputs = {};
  const caCert = parsePem('ca-cert', getInput('ca-cert'), 'certificate');
  const clientCert = parsePem('client-cert', getInput('client-cert'), 'certificate');
  const clientKey = parsePem('client-key', getInput('client-key'), 'private key');
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new InputError(
      clientCert === undefined
        ? 'input `client-key` is set but `client-cert` is not: mTLS needs both (the certificate and its private key)'
        : 'input `client-cert` is set but `client-key` is not: mTLS needs both (the certificate and its private key)',
    );
  }
  if (caCert !== undefined) tls.caCert = caCert;
  if (clientCert !== undefined) tls.clientCert = clientCert;
  if (clientKey !== undefined) tls.clientKey = clientKey;
  return tls;
}

/** Reads the inputs that control how the coordinator is reached (used by the post step too). */
export function readConnectionInputs(getInput: GetInput): ConnectionInputs {
  return {
    tls: readTlsInputs(getInput),
    retries: parseRetries(getInput('retries')),
    timeoutSeconds: parseTimeoutSeconds(getInput('timeout-seconds')),
  };
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || /^127(\.[0-9]{1,3}){3}$/.test(h);
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
  // The URL parser drops tabs and line breaks silently; a URL with them is a mistake (or worse).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u00a0]/.test(value)) {
    throw new InputError('input `coordinator-url` must not contain spaces, line breaks or control characters');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`input \`coordinator-url\`: ${JSON.stringify(value)} is not an absolute URL ` + '(e.g. `https://ztmint.example.com`)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new InputError(`input \`coordinator-url\`: ${JSON.stringify(value)} must use https:// ` + '(plain http:// is only accepted for localhost / 127.0.0.1 / [::1])');
  }
  if (url.username !== '' || url.password !== '') {
    throw new InputError('input `coordinator-url` must not contain a user name or password');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InputError('input `coordinator-url` must not contain a query (`?`) or fragment (`#`): give the base URL only');
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
  const exportEnv = parseExportEnv(getInput('export-env'));
  const revoke = parseBoolean('revoke', getInput('revoke'), true);
  const connection = readConnectionInputs(getInput);
  const inputs: ActionInputs = {
    coordinatorUrl,
    scopes,
    oidcAudience: oidcAudience === '' ? coordinatorUrl : oidcAudience,
    revoke,
    ...connection,
  };
  if (ttl !== undefined) inputs.ttl = ttl;
  if (audience !== '') inputs.audience = audience;
  if (exportEnv !== undefined) inputs.exportEnv = exportEnv;
  return inputs;
}

/** The lines of a PEM private key that must be masked (its base64 body). */
export function pemSecretLines(pem: string): string[] {
  return pem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l));
}
