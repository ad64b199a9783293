// `ztmint signer` both runs a signer and holds subcommands (`reseal`, `inspect`, `dkg-serve`).
import type { Command } from 'commander';

/**
 * The `signer` command (given, or found or created on the program), set up for subcommands.
 * `signer`'s own options (--state, --index, …) are read only before a subcommand's name, so
 * `signer reseal --state …` hands --state to `reseal` and `signer --state …` still runs a signer;
 * that takes positional options on the program too (it has no options of its own). Commander
 * checks an ancestor's required options before any subcommand runs, so `signer`'s are checked
 * only when `signer` itself runs. Idempotent: a second call finds nothing left to change.
 */
export function signerParentCommand(signerOrProgram: Command): Command {
  const signer =
    signerOrProgram.name() === 'signer' ? signerOrProgram : (signerOrProgram.commands.find((c) => c.name() === 'signer') ?? signerOrProgram.command('signer').description('signer operations'));
  signer.parent?.enablePositionalOptions();
  signer.enablePositionalOptions();
  const required = signer.options.filter((o) => o.mandatory);
  for (const o of required) o.mandatory = false;
  if (required.length) {
    signer.hook('preAction', (_self, actionCommand) => {
      if (actionCommand !== signer) return;
      const missing = required.find((o) => signer.getOptionValue(o.attributeName()) === undefined);
      if (missing) signer.error(`error: required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    });
  }
  return signer;
}
