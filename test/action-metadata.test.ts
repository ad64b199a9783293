// action.yml must declare, with a description, every input the code reads and every output it
// sets (and nothing else), its defaults must be the code's, and the tables in action/README.md
// and docs/action.md must list them all. Also the shape of the workflows around the action.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECONDS } from '../action/inputs.js';
import { ROOT } from './helpers/dev-stack.js';

const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

interface Entry {
  description: string;
  required?: string;
  default?: string;
}

/** A small reader for action.yml's `inputs:` / `outputs:` maps (two-space keys, four-space fields, `>-` folding). */
function section(yml: string, name: 'inputs' | 'outputs'): Record<string, Entry> {
  const lines = yml.split('\n');
  const start = lines.indexOf(`${name}:`);
  expect(start, `action.yml has no ${name}:`).toBeGreaterThanOrEqual(0);
  const out: Record<string, Entry> = {};
  let current: Record<string, string> | undefined;
  let folding: string | undefined;
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const key = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line);
    if (key) {
      current = {};
      out[key[1]!] = current as unknown as Entry;
      folding = undefined;
      continue;
    }
    const field = /^ {4}([a-z-]+):\s*(.*)$/.exec(line);
    if (field && current) {
      const [, k, v] = field;
      if (v === '>-' || v === '|') {
        folding = k!;
        current[k!] = '';
      } else {
        folding = undefined;
        current[k!] = v!.replace(/^'(.*)'$/, '$1');
      }
      continue;
    }
    if (folding && current && /^ {6}/.test(line)) current[folding] = `${current[folding]} ${line.trim()}`.trim();
  }
  return out;
}

const yml = read('action.yml');
const inputs = section(yml, 'inputs');
const outputs = section(yml, 'outputs');
const actionSources = readdirSync(join(ROOT, 'action'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => read('action', f))
  .join('\n');

describe('action.yml', () => {
  it('declares exactly the inputs of issue #4, each with a description', () => {
    expect(Object.keys(inputs).sort()).toEqual(
      ['coordinator-url', 'scopes', 'ttl', 'audience', 'oidc-audience', 'export-env', 'revoke', 'ca-cert', 'client-cert', 'client-key', 'retries', 'timeout-seconds'].sort(),
    );
    for (const [name, entry] of Object.entries(inputs)) {
      expect(entry.description?.length ?? 0, `${name} has no description`).toBeGreaterThan(20);
    }
    expect(inputs['coordinator-url']?.required).toBe('true');
    expect(inputs.scopes?.required).toBe('true');
  });

  it('declares every output with a description', () => {
    expect(Object.keys(outputs).sort()).toEqual(['audit-index', 'expires-at', 'jti', 'log-index', 'scopes', 'token', 'transparency-proof']);
    for (const [name, entry] of Object.entries(outputs)) {
      expect(entry.description?.length ?? 0, `${name} has no description`).toBeGreaterThan(10);
    }
  });

  it("matches what the code reads and sets, and the code's defaults", () => {
    const read = new Set([...actionSources.matchAll(/getInput\('([a-z-]+)'\)/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual(Object.keys(inputs).sort());
    const set = new Set([...actionSources.matchAll(/setOutput\('([a-z-]+)'/g)].map((m) => m[1]));
    expect([...set].sort()).toEqual(Object.keys(outputs).sort());
    expect(inputs.revoke?.default).toBe('true');
    expect(inputs.retries?.default).toBe(String(DEFAULT_RETRIES));
    expect(inputs['timeout-seconds']?.default).toBe(String(DEFAULT_TIMEOUT_SECONDS));
    // No expressions in the metadata (the runner does not evaluate them in descriptions).
    expect(yml).not.toContain('${{');
  });

  it.each([['action/README.md'], ['docs/action.md']])('%s has a table row for every input and output', (file) => {
    const text = read(file);
    const inputsTable = text.slice(text.indexOf('## Inputs'), text.indexOf('## Outputs'));
    const outputsTable = text.slice(text.indexOf('## Outputs'));
    for (const [name, entry] of Object.entries(inputs)) {
      const row = new RegExp(`^\\| \`${name}\` \\| (yes|no) \\|\\s*([^|]*?)\\s*\\|`, 'm').exec(inputsTable);
      expect(row, `${file}: no row for input ${name}`).not.toBeNull();
      expect(row![1], `${file}: ${name} required`).toBe(entry.required === 'true' ? 'yes' : 'no');
      if (entry.default) expect(row![2], `${file}: ${name} default`).toContain(`\`${entry.default}\``);
    }
    for (const name of Object.keys(outputs)) {
      expect(outputsTable, `${file}: no row for output ${name}`).toMatch(new RegExp(`^\\| \`${name}\` \\| `, 'm'));
    }
  });
});

describe('workflows', () => {
  it('deploy.yml is a reusable workflow with environment, scopes and command, and id-token: write', () => {
    const wf = read('.github', 'workflows', 'deploy.yml');
    expect(wf).toMatch(/^on:\n {2}workflow_call:\n/m);
    for (const input of ['environment', 'scopes', 'command']) {
      expect(wf).toMatch(new RegExp(`\\n {6}${input}:\\n(?: {8}.*\\n)*? {8}required: true\\n`));
    }
    expect(wf).toMatch(/\n {6}id-token: write\n/);
    expect(wf).toContain('environment: ${{ inputs.environment }}');
    expect(wf).toContain('ZTMINT_TOKEN: ${{ steps.mint.outputs.token }}');
    // The command reaches bash through the environment, not pasted into the script.
    expect(wf).toContain('DEPLOY_COMMAND: ${{ inputs.command }}');
    expect(wf).not.toMatch(/run:.*\$\{\{\s*inputs\.command/);
  });

  it('ci.yml runs the same .ci/run as CI (which checks dist/ through test/dist.e2e.test.ts) and the action itself', () => {
    const ci = read('.github', 'workflows', 'ci.yml');
    expect(ci).toContain('run: bash .ci/run');
    expect(ci).toContain('npm ci --omit=dev');
    expect(ci).toContain('uses: ./');
  });
});
