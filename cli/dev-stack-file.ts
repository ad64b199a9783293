// `<state>/dev-stack.json`: where a running `ztmint dev --state DIR` stack is, so that operator
// commands (`ztmint status`, `pki`, `admin`, `audit`, `keys`, …) given `--state DIR` (or
// `ZTMINT_STATE`) find the coordinator, the signers and the credentials without more flags. Written
// by the dev stack once every process is ready, removed when it stops. Holds paths, never secrets.
import { readFileSync } from 'node:fs';
import { rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ZtmintError } from '../errors/ztmint-error.js';

const DEV_STACK_FILE = 'dev-stack.json';

export interface DevStackFile {
  version: 1;
  /** Absolute path of the state directory. */
  state: string;
  /** The dev OIDC issuer (GitHub-like). */
  issuer: string;
  coordinator: {
    /** The public URL (issuer of every token, OIDC audience). */
    url: string;
    /** Every replica's own URL (one unless --coordinators N). */
    replicas: string[];
    pids: number[];
    /** Each replica's admin listener (HTTPS, admin client certificate), in the order of `replicas` (`ztmint admin`, `audit`, `keys`). */
    admin?: string[];
    /** Extra listeners a feature adds (admin API, metrics) go here as optional members. */
    [extra: string]: unknown;
  };
  signers: Array<{ index: number; url: string; pid: number; [extra: string]: unknown }>;
  /** PEM files in the state directory: the CA, the coordinator's client pair, the admin client pair. */
  tls: { ca: string; client_cert: string; client_key: string; admin_cert: string; admin_key: string; [extra: string]: unknown };
  /** A bearer token for POST /v1/introspect (the coordinators' --introspection-token-file; 0600). */
  introspection_token_file?: string;
  /** Signed policy bundles (`ztmint policy …`): the dev policy-admin key pair, the bundle directory, the revisions file. */
  policy?: DevPolicyPaths;
  /** Features record more paths here as optional members. */
  [extra: string]: unknown;
}

/** The state directory an operator command works on: `--state`, else `ZTMINT_STATE`. */
export function stateDirFrom(opts: { state?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const dir = opts.state ?? env.ZTMINT_STATE;
  if (!dir) throw new ZtmintError('state_dir_missing', 'no state directory: pass --state DIR (the directory of `ztmint dev --state DIR`) or set ZTMINT_STATE');
  return resolve(dir);
}

/** The TLS paths the dev stack's keygen writes under `<state>/tls`. */
export function devTlsPaths(state: string): DevStackFile['tls'] {
  const tls = join(state, 'tls');
  return {
    ca: join(tls, 'ca.pem'),
    client_cert: join(tls, 'coordinator.pem'),
    client_key: join(tls, 'coordinator-key.pem'),
    admin_cert: join(tls, 'admin.pem'),
    admin_key: join(tls, 'admin-key.pem'),
  };
}

export interface DevPolicyPaths {
  admin_key: string;
  admin_public_key: string;
  bundle_dir: string;
  revisions_file: string;
}

/** Where the dev stack keeps its policy-admin key, signed bundles and revisions file: `<state>/policy/`. */
export function devPolicyPaths(state: string): DevPolicyPaths {
  const dir = join(state, 'policy');
  return { admin_key: join(dir, 'admin-key.pem'), admin_public_key: join(dir, 'admin.pub.pem'), bundle_dir: join(dir, 'bundles'), revisions_file: join(dir, 'revisions') };
}

/** Writes the file atomically (a reader never sees half of it). */
export async function writeDevStackFile(stack: DevStackFile): Promise<void> {
  const path = join(stack.state, DEV_STACK_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(stack, null, 2) + '\n', { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

export async function removeDevStackFile(state: string): Promise<void> {
  await rm(join(state, DEV_STACK_FILE), { force: true });
}

/** Reads the running stack's file; a clear error says how to start one when there is none. */
export function readDevStackFile(state: string): DevStackFile {
  const path = join(state, DEV_STACK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ZtmintError('dev_stack_not_running', `no running dev stack in ${state} (${path} is missing): start one with \`ztmint dev --state ${state} --json\``, { cause });
  }
  const parsed = JSON.parse(text) as DevStackFile;
  if (parsed.version !== 1) throw new ZtmintError('dev_stack_file_invalid', `${path} has version ${String(parsed.version)}, this ztmint reads version 1`);
  return parsed;
}
