// Registers a service's options on its commander command, from the option table: one flag per
// key, plus --config. No commander defaults or required flags: resolveConfig applies defaults
// after the environment and the config file had their say, and checks what is required.
import { Option, type Command } from 'commander';
import { configEnvName, envName, flagName, type ServiceOptionTable } from './option-table.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addServiceOptions(command: Command, table: ServiceOptionTable): Command {
  command.addOption(new Option('--config <file>', `config file (YAML or JSON; schema config/${table.service}.schema.json; env ${configEnvName(table.service)})`));
  for (const spec of table.options) {
    const defaultText = spec.defaultText ?? (spec.default !== undefined ? JSON.stringify(spec.default) : undefined);
    const help = `${spec.description}${spec.required ? ' (required)' : ''}${defaultText ? ` [default: ${defaultText}]` : ''} {${envName(table.service, spec)}}`;
    const flags = spec.type === 'boolean' ? `--${flagName(spec)}` : `--${flagName(spec)} ${spec.value ?? '<value>'}`;
    const option = new Option(flags, help);
    if (spec.type === 'string-list') option.argParser(collect);
    command.addOption(option);
  }
  return command;
}

/** The flag values commander parsed, keyed by option key (commander's attribute names are the camelCased flags). */
export function flagValues(command: Command, table: ServiceOptionTable): Record<string, unknown> {
  const opts = command.opts();
  const out: Record<string, unknown> = {};
  for (const spec of table.options) {
    const attribute = flagName(spec).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (opts[attribute] !== undefined) out[spec.key] = opts[attribute];
  }
  return out;
}

export function configFileOf(command: Command, table: ServiceOptionTable, env: NodeJS.ProcessEnv): string | undefined {
  return (command.opts().config as string | undefined) ?? (env[configEnvName(table.service)] || undefined);
}
