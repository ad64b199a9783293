// The job summary (GITHUB_STEP_SUMMARY) for a mint: who, what, until when, where to audit it.
// Never the token. Every value is escaped, since scopes and claims come from outside.

import type { MintResult } from './coordinator-client.js';

export interface SummaryFacts {
  repository?: string;
  /** GITHUB_SERVER_URL: github.com or a GitHub Enterprise Server. */
  serverUrl?: string;
  coordinatorUrl: string;
  minted: Omit<MintResult, 'token' | 'tokenType'>;
  revoke: boolean;
  exportEnv?: string;
}

/** Escapes text for a Markdown table cell (HTML entities for everything Markdown or HTML would interpret). */
export function escapeCell(text: string): string {
  return text.replace(/[&<>"'`|\\*_[\]~#!\n\r]/g, (c) => (c === '\n' || c === '\r' ? ' ' : `&#${c.charCodeAt(0)};`));
}

function repositoryCell(repository: string | undefined, serverUrl: string | undefined): string {
  if (!repository) return '_unknown_';
  const text = escapeCell(repository);
  let base: URL | undefined;
  try {
    base = serverUrl ? new URL(serverUrl) : undefined;
  } catch {
    base = undefined;
  }
  if (base === undefined || (base.protocol !== 'https:' && base.protocol !== 'http:')) return text;
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) return text;
  const href = `${base.href.replace(/\/+$/, '')}/${repository}`;
  return `<a href="${escapeCell(href)}">${text}</a>`;
}

/** The Markdown written to the job summary after a successful mint. */
export function mintSummary(f: SummaryFacts): string {
  const m = f.minted;
  const rows: Array<[string, string]> = [
    ['Repository', repositoryCell(f.repository, f.serverUrl)],
    ['Granted scopes', m.scopes.length > 0 ? m.scopes.map(escapeCell).join(', ') : '_none_'],
    ['Audience', m.audience ? escapeCell(m.audience) : '_none_'],
    ['Expires at', `${escapeCell(m.expiresAt)} (${Math.round(m.expiresIn)} s after the mint)`],
    ['Token ID (jti)', escapeCell(m.jti)],
    ['Audit index', String(m.auditIndex)],
    ['Coordinator', escapeCell(f.coordinatorUrl)],
    ['Revocation', f.revoke ? 'at the end of the job (post step)' : 'none (<code>revoke: false</code>): valid until it expires'],
  ];
  if (f.exportEnv) rows.push(['Exported to', `environment variable ${escapeCell(f.exportEnv)} (cleared at the end of the job)`]);
  return ['### ztmint: deploy token minted', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '', 'The token itself is masked in the logs and not shown here.', ''].join('\n');
}
