// How operator commands reach a coordinator's admin listener: the URL and the admin client
// certificate come from a running dev stack (`--state DIR` or ZTMINT_STATE → dev-stack.json) or
// from flags (`--admin-url`, `--cert`, `--key`, `--ca`) for a deployed one. Answers that are
// problem documents become errors that keep the coordinator's code and detail.
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { ZtmintError } from '../errors/ztmint-error.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';

export interface AdminEndpointOptions {
  state?: string;
  adminUrl?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

/** A request waits at most this long (a tail asks for 25 s and gets its answer before). */
const REQUEST_TIMEOUT_MS = 60_000;

export function addAdminEndpointOptions(command: Command): Command {
  return command
    .option('--state <dir>', 'state directory of a running `ztmint dev --state DIR` stack (default: $ZTMINT_STATE)')
    .option('--admin-url <url>', "the coordinator's admin listener (default: from the dev stack)")
    .option('--cert <file>', 'admin client certificate (PEM; default: <state>/tls/admin.pem)')
    .option('--key <file>', 'its private key (PEM; default: <state>/tls/admin-key.pem)')
    .option('--ca <file>', "CA of the admin listener's certificate (PEM; default: <state>/tls/ca.pem)");
}

export function jsonOption(): Option {
  return new Option('--json', 'print JSON instead of a table').default(false);
}

export class AdminClient {
  private constructor(
    readonly url: string,
    private readonly agent: Agent,
  ) {}

  static async open(opts: AdminEndpointOptions, env: NodeJS.ProcessEnv = process.env): Promise<AdminClient> {
    let { adminUrl, cert, key, ca } = opts;
    if (!adminUrl || !cert || !key || !ca) {
      const stack = readDevStackFile(stateDirFrom(opts, env));
      const admins = stack.coordinator.admin;
      const first = Array.isArray(admins) && typeof admins[0] === 'string' ? admins[0] : undefined;
      if (!adminUrl && !first) throw new ZtmintError('admin_listener_missing', 'the running dev stack has no admin listener: restart it with this ztmint, or pass --admin-url');
      adminUrl ??= first;
      cert ??= stack.tls.admin_cert;
      key ??= stack.tls.admin_key;
      ca ??= stack.tls.ca;
    }
    const [certPem, keyPem, caPem] = await Promise.all([cert!, key!, ca!].map((f) => readFile(f, 'utf8')));
    return new AdminClient(adminUrl!.replace(/\/+$/, ''), new Agent({ connect: { cert: certPem, key: keyPem, ca: caPem, timeout: 10_000 } }));
  }

  /** JSON in, JSON out; a problem answer throws with its code and detail. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await request(`${this.url}${path}`, {
      method,
      dispatcher: this.agent,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new ZtmintError('admin_bad_answer', `${method} ${path}: HTTP ${res.statusCode} with a body that is not JSON; is --admin-url the admin listener?`);
    }
    if (res.statusCode >= 400) {
      const p = parsed as { code?: string; detail?: string };
      throw new ZtmintError('admin_refused', `${method} ${path}: HTTP ${res.statusCode} ${p.code ?? ''}: ${p.detail ?? text}`);
    }
    return parsed as T;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Opens the client, runs `work`, closes it. */
export async function withAdmin<T>(opts: AdminEndpointOptions, work: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = await AdminClient.open(opts);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
