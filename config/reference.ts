// The configuration reference (Markdown tables) generated from the option table, for
// docs/operations.md between the markers below.
import { configEnvName, envName, flagName, SERVICE_TABLES, type OptionSpec, type ServiceOptionTable } from './option-table.js';

export const REFERENCE_BEGIN = '<!-- config-reference:begin (generated from config/option-table.ts; do not edit by hand) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function defaultOf(spec: OptionSpec): string {
  if (spec.required) return 'required';
  if (spec.defaultText) return cell(spec.defaultText);
  if (spec.default !== undefined) return `\`${JSON.stringify(spec.default)}\``;
  return 'unset';
}

function table(t: ServiceOptionTable): string {
  const rows = t.options.map((o) => `| \`${o.key}\` | \`--${flagName(o)}\` | \`${envName(t.service, o)}\` | ${o.type} | ${defaultOf(o)} | ${cell(o.description)} |`);
  return [
    `### \`${t.title}\``,
    '',
    `Config file: \`--config FILE\` or \`${configEnvName(t.service)}\`; schema \`config/${t.service}.schema.json\`.`,
    '',
    '| key | flag | environment | type | default | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function configReference(): string {
  return SERVICE_TABLES.map(table).join('\n\n');
}

export function replaceReference(doc: string, reference: string): string {
  const begin = doc.indexOf(REFERENCE_BEGIN);
  const end = doc.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error('docs/operations.md lacks the config-reference markers');
  return `${doc.slice(0, begin + REFERENCE_BEGIN.length)}\n${reference}\n${doc.slice(end)}`;
}
