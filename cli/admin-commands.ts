// `ztmint admin revoke`: revoke one token by jti, every token of a repository issued before a
// time, or every token issued before a time, through the coordinator's admin listener (which
// audits it and stores it in the state store every replica reads). Thin: parse, call, print.
import { type Command } from 'commander';
import { ZtmintError } from '../errors/ztmint-error.js';
import { addAdminEndpointOptions, jsonOption, withAdmin, type AdminEndpointOptions } from './admin-client.js';

interface RevokeOptions extends AdminEndpointOptions {
  jti?: string;
  repository?: string;
  before?: string;
  allBefore?: string;
  json: boolean;
}

/** An RFC 3339 time, or seconds since the epoch, as RFC 3339. */
export function timeArgument(value: string, flag: string): string {
  const ms = /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ZtmintError('invalid_time', `${flag} ${JSON.stringify(value)}: give an RFC 3339 time (2026-01-31T12:00:00Z) or seconds since the epoch`);
  return new Date(ms).toISOString();
}

function revokeBody(opts: Pick<RevokeOptions, 'jti' | 'repository' | 'before' | 'allBefore'>): Record<string, string> {
  const given = [opts.jti, opts.repository, opts.allBefore].filter((v) => v !== undefined).length;
  if (given !== 1) throw new ZtmintError('invalid_arguments', 'give exactly one of --jti J, --repository R [--before T] or --all-before T');
  if (opts.before !== undefined && opts.repository === undefined) throw new ZtmintError('invalid_arguments', '--before goes with --repository (use --all-before for every repository)');
  if (opts.jti !== undefined) return { jti: opts.jti };
  if (opts.repository !== undefined) return { repository: opts.repository, ...(opts.before !== undefined ? { before: timeArgument(opts.before, '--before') } : {}) };
  return { all_before: timeArgument(opts.allBefore!, '--all-before') };
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description("operator calls to the coordinator's admin listener (admin client certificate; docs/admin.md)");
  addAdminEndpointOptions(
    admin
      .command('revoke')
      .description("make tokens inactive at every replica: one by --jti, a repository's by --repository [--before T], or all issued before --all-before T")
      .option('--jti <jti>', 'the token id (an unknown or expired one is not an error, RFC 7009)')
      .option('--repository <owner/name>', 'every token of this repository issued before --before (default: now)')
      .option('--before <time>', 'with --repository: RFC 3339 time or epoch seconds')
      .option('--all-before <time>', 'every token issued before this time (RFC 3339 or epoch seconds)')
      .addOption(jsonOption()),
  ).action(async (opts: RevokeOptions) => {
    const body = revokeBody(opts);
    const answer = await withAdmin(opts, (client) => client.call<{ revoked: unknown; new: boolean; audit: { index: number } }>('POST', '/admin/v1/revoke', body));
    if (opts.json) return console.log(JSON.stringify(answer));
    console.log(`revoked ${JSON.stringify(answer.revoked)}${answer.new ? '' : ' (no change: already in force, or no token it covers can still be valid)'}; audit record #${answer.audit.index}`);
  });
}
