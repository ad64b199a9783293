// `ztmint status [--state DIR] [--json]`: the health of a running stack (cli/status.ts), found
// through its <state>/dev-stack.json.
import type { Command } from 'commander';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';
import { collectStatus, formatStatus } from './status.js';

export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description("every signer's reachability, group key, share version, policy revisions, certificate expiry and attestation; each coordinator's readiness, store health and warnings")
    .option('--state <dir>', 'state directory of a running `ztmint dev --state DIR` (default: $ZTMINT_STATE)')
    .option('--json', 'print one JSON document', false)
    .action(async (opts: { state?: string; json: boolean }) => {
      const status = await collectStatus(readDevStackFile(stateDirFrom(opts)));
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
}
