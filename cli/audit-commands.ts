// `ztmint audit list|search|show|tail`: read the coordinator's audit log through its admin
// listener (so it works the same for the file store and PostgreSQL, and every read is by an
// authenticated admin). `tail` long-polls: a new record is printed as soon as it is durable.
import { Option, type Command } from 'commander';
import { ZtmintError } from '../errors/ztmint-error.js';
import { addAdminEndpointOptions, jsonOption, withAdmin, type AdminClient, type AdminEndpointOptions } from './admin-client.js';
import { timeArgument } from './admin-commands.js';

type AuditRecord = Record<string, unknown> & { index: number; time: string; event: string };
interface AuditPage {
  records: AuditRecord[];
  next: number;
}

interface AuditOptions extends AdminEndpointOptions {
  since?: string;
  until?: string;
  event?: string;
  repository?: string;
  subject?: string;
  jti?: string;
  code?: string;
  from?: string;
  limit?: string;
  json: boolean;
}

const FILTERS = ['event', 'repository', 'subject', 'jti', 'code'] as const;
/** Seconds one tail request waits on the server before asking again. */
const TAIL_WAIT_S = 20;

function withFilters(command: Command): Command {
  return addAdminEndpointOptions(command)
    .option('--since <time>', 'records at or after (RFC 3339 or epoch seconds)')
    .option('--until <time>', 'records before (RFC 3339 or epoch seconds)')
    .addOption(new Option('--event <event>', 'only this event').choices(['mint', 'deny', 'revoke', 'admin_refused']))
    .option('--repository <owner/name>', 'only records of this repository')
    .option('--subject <sub>', 'only records of this OIDC subject')
    .option('--jti <jti>', 'only records of this minted or OIDC token id')
    .option('--code <code>', 'only records with this problem code (denials, refusals)')
    .addOption(jsonOption());
}

function auditQuery(opts: AuditOptions, extra: Record<string, string | number> = {}): string {
  const q = new URLSearchParams();
  if (opts.since) q.set('since', timeArgument(opts.since, '--since'));
  if (opts.until) q.set('until', timeArgument(opts.until, '--until'));
  for (const key of FILTERS) if (opts[key] !== undefined) q.set(key, opts[key]);
  for (const [key, value] of Object.entries(extra)) q.set(key, String(value));
  return q.toString();
}

function cell(value: unknown): string {
  return value === undefined || value === null ? '-' : String(value);
}

/** One line per record: index, time, event, repository, subject, jti, code. */
function auditTableLine(r: AuditRecord): string {
  const oidc = (r.oidc ?? {}) as { sub?: unknown };
  return [r.index, r.time, r.event, cell(r.repository), cell(oidc.sub), cell(r.jti), cell(r.code)].join('\t');
}

const HEADER = ['index', 'time', 'event', 'repository', 'subject', 'jti', 'code'].join('\t');

function print(records: AuditRecord[], json: boolean): void {
  for (const r of records) console.log(json ? JSON.stringify(r) : auditTableLine(r));
}

/** Every matching record from `from` on, page by page. */
async function collect(client: AdminClient, opts: AuditOptions, limit: number): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let from = opts.from !== undefined ? Number(opts.from) : 0;
  for (;;) {
    const page = await client.call<AuditPage>('GET', `/admin/v1/audit?${auditQuery(opts, { from, limit: Math.min(1000, limit - out.length) })}`);
    out.push(...page.records);
    if (page.records.length === 0 || out.length >= limit || page.next === from) return out;
    from = page.next;
  }
}

async function listOrSearch(opts: AuditOptions, needFilter: boolean): Promise<void> {
  if (needFilter && !opts.since && !opts.until && FILTERS.every((k) => opts[k] === undefined)) {
    throw new ZtmintError('invalid_arguments', 'search needs a filter: --since, --until, --event, --repository, --subject, --jti or --code (or use `audit list`)');
  }
  const limit = opts.limit !== undefined ? Number(opts.limit) : Number.MAX_SAFE_INTEGER;
  const records = await withAdmin(opts, (client) => collect(client, opts, limit));
  if (opts.json) return console.log(JSON.stringify(records));
  console.log(HEADER);
  print(records, false);
}

export function registerAuditCommands(program: Command): void {
  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit').description('audit log operations');
  withFilters(audit.command('list').description('audit records in order (filters optional)'))
    .option('--from <index>', 'start at this record index')
    .option('--limit <n>', 'at most this many records')
    .action((opts: AuditOptions) => listOrSearch(opts, false));
  withFilters(audit.command('search').description('audit records matching the filters (--json: one JSON array)'))
    .option('--from <index>', 'start at this record index')
    .option('--limit <n>', 'at most this many records')
    .action((opts: AuditOptions) => listOrSearch(opts, true));
  addAdminEndpointOptions(audit.command('show').description('one audit record, as JSON').argument('<index>', 'record index')).action(async (index: string, opts: AdminEndpointOptions) => {
    const record = await withAdmin(opts, (client) => client.call<AuditRecord>('GET', `/admin/v1/audit/${encodeURIComponent(index)}`));
    console.log(JSON.stringify(record, null, 2));
  });
  withFilters(audit.command('tail').description('print new matching records as they are written, until interrupted (--json: one JSON object per line)'))
    .option('--from <index>', 'start at this record index (default: the end of the log)')
    .action(async (opts: AuditOptions) => {
      await withAdmin(opts, async (client) => {
        let from = opts.from !== undefined ? Number(opts.from) : (await client.call<{ next: number }>('GET', '/admin/v1/audit/head')).next;
        if (!opts.json) console.log(HEADER);
        for (;;) {
          const page = await client.call<AuditPage>('GET', `/admin/v1/audit?${auditQuery(opts, { from, limit: 1000, wait: TAIL_WAIT_S })}`);
          print(page.records, opts.json);
          from = page.next;
        }
      });
    });
}
