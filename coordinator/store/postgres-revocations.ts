// Revocations shared by all replicas. A revoke inserts a row and notifies, in one statement; every
// replica LISTENs and adds the jti to its own copy at once, so introspection anywhere sees it within
// milliseconds. A full resync at (re)connect and every few seconds covers a lost notification or a
// dropped listener connection. Introspection reads the local copy: it stays answerable while the
// database is briefly away. Revocation rules (admin API) travel the same way on a second channel.
import pg, { type Pool } from 'pg';
import { ExpiringSet } from '../../oidc/expiring-set.js';
import { RuleSet, ruleExpiry, ruleKey, type RevocableClaims, type RevocationRule } from '../revocation-rules.js';
import type { RevocationSet } from './state-store.js';
import { orUnavailable } from './store-unavailable.js';

const REVOCATION_CHANNEL = 'ztmint_revocations';
const RULE_CHANNEL = 'ztmint_revocation_rules';

const ADD_RULE = `
  WITH inserted AS (
    INSERT INTO ztmint_revocation_rules (key, repository, before, expires_at) VALUES ($1::text, $2::text, $3::bigint, $4::bigint)
    ON CONFLICT DO NOTHING RETURNING key
  )
  SELECT pg_notify('${RULE_CHANNEL}', key) FROM inserted`;

const REVOKE = `
  WITH inserted AS (
    INSERT INTO ztmint_revocations (jti, expires_at) VALUES ($1::text, $2::bigint) ON CONFLICT DO NOTHING RETURNING jti, expires_at
  )
  SELECT pg_notify('${REVOCATION_CHANNEL}', jti || ' ' || expires_at) FROM inserted`;

export interface RevocationSyncOptions {
  /** Full resync interval (a backstop for lost notifications). */
  resyncMs?: number;
  /** Wait before reconnecting a dropped listener. */
  reconnectMs?: number;
}

export class PostgresRevocations implements RevocationSet {
  private readonly revoked = new ExpiringSet();
  private readonly rules = new RuleSet();
  private listener?: pg.Client;
  private resyncTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly connection: pg.ClientConfig,
    private readonly nowS: () => number,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
    private readonly options: RevocationSyncOptions = {},
  ) {}

  /** Loads the current set and starts listening; resolves once both are done. */
  async start(): Promise<void> {
    await this.listen();
    this.resyncTimer = setInterval(() => void this.resync().catch(() => undefined), this.options.resyncMs ?? 5_000);
    this.resyncTimer.unref();
  }

  async add(jti: string, exp: number): Promise<boolean> {
    const result = await orUnavailable('revocations', () => this.pool.query(REVOKE, [jti, exp]), this.log);
    this.revoked.add(jti, exp, this.nowS());
    return result.rowCount === 1;
  }

  has(jti: string): boolean {
    return this.revoked.has(jti, this.nowS());
  }

  async addRule(rule: RevocationRule): Promise<boolean> {
    const result = await orUnavailable('revocation rules', () => this.pool.query(ADD_RULE, [ruleKey(rule), rule.repository ?? null, rule.before, ruleExpiry(rule)]), this.log);
    this.rules.add(rule, this.nowS());
    return result.rowCount === 1;
  }

  covers(claims: RevocableClaims): boolean {
    return this.has(claims.jti) || this.rules.covers(claims, this.nowS());
  }

  private async resync(): Promise<void> {
    const { rows } = await this.pool.query<{ jti: string; expires_at: string }>('SELECT jti, expires_at FROM ztmint_revocations WHERE expires_at >= $1', [this.nowS()]);
    for (const row of rows) this.revoked.add(row.jti, Number(row.expires_at), this.nowS());
    await this.resyncRules();
  }

  private async resyncRules(): Promise<void> {
    const { rows } = await this.pool.query<{ repository: string | null; before: string }>('SELECT repository, before FROM ztmint_revocation_rules WHERE expires_at >= $1', [this.nowS()]);
    for (const row of rows) this.rules.add({ before: Number(row.before), ...(row.repository !== null ? { repository: row.repository } : {}) }, this.nowS());
  }

  /** One listener at a time; any failure of it schedules exactly one reconnect. */
  private async listen(): Promise<void> {
    const client = new pg.Client(this.connection);
    this.listener = client;
    client.on('error', (err) => {
      this.log('revocation listener lost its connection; reconnecting', { code: (err as { code?: unknown }).code });
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    client.on('notification', (message) => {
      // A rule's key is not enough to rebuild it (a repository may hold spaces): read the table.
      if (message.channel === RULE_CHANNEL) return void this.resyncRules().catch(() => undefined);
      const [jti, exp] = (message.payload ?? '').split(' ');
      if (jti && exp) this.revoked.add(jti, Number(exp), this.nowS());
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
      await client.query(`LISTEN ${RULE_CHANNEL}`);
      await this.resync(); // after LISTEN: nothing revoked in between is missed
    } catch (err) {
      this.reconnect(client);
      throw err;
    }
  }

  private reconnect(dead: pg.Client): void {
    if (this.closed || this.listener !== dead) return;
    this.listener = undefined;
    dead.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => void this.listen().catch(() => undefined), this.options.reconnectMs ?? 1_000);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.reconnectTimer);
    await this.listener?.end().catch(() => undefined);
  }
}
