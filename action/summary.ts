// The job summary (GITHUB_STEP_SUMMARY) for a mint: who, what, until when, where to audit it.
// Never the token. Every value is escaped, since scopes and claims come from outside.

import type { MintResult } from './coordinator-client.js';
import { CoordinatorError } from './coordinator-error.js';

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

/** Where the mint is in the transparency log: leaf and checkpoint (origin and size), or why not. */
function transparencyCell(t: SummaryFacts['minted']['transparency']): string {
  if (!t) return '_no proof in the answer_ (the coordinator logs none, or no checkpoint was signed)';
  const [origin = '', size = ''] = t.checkpoint.split('\n', 2);
  return `leaf ${t.log_index} of the checkpoint ${escapeCell(origin)} at size ${escapeCell(size)} (output <code>transparency-proof</code>; check it with <code>ztmint audit verify-proof</code>)`;
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
    ['Transparency log', transparencyCell(m.transparency)],
    ['Coordinator', escapeCell(f.coordinatorUrl)],
    ['Revocation', f.revoke ? 'at the end of the job (post step)' : 'none (<code>revoke: false</code>): valid until it expires'],
  ];
  if (f.exportEnv) rows.push(['Exported to', `environment variable ${escapeCell(f.exportEnv)} (cleared at the end of the job)`]);
  return ['### ztmint: deploy token minted', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '', 'The token itself is masked in the logs and not shown here.', ''].join('\n');
}

export interface FailureFacts {
  repository?: string;
  serverUrl?: string;
  /** Absent when the inputs could not be read. */
  coordinatorUrl?: string;
  /** The step's failure message, already redacted: it says what happened and what to do. */
  message: string;
  /** What failed: a coordinator error carries its problem code and HTTP status. */
  error: unknown;
}

/** The coordinator's error behind a failure (the retry loop wraps it as the `cause`). */
function coordinatorErrorIn(error: unknown): CoordinatorError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof CoordinatorError) return e;
  }
  return undefined;
}

/**
 * The Markdown written to the job summary after a failed mint: the problem code, HTTP status and
 * the step's own message (which names the check and what to do next), so a reader of the run's
 * summary page sees why no token was minted without opening the log. Never a secret: the message
 * was redacted like every log line, and every piece is escaped.
 */
export function failureSummary(f: FailureFacts): string {
  const rows: Array<[string, string]> = [['Repository', repositoryCell(f.repository, f.serverUrl)]];
  if (f.coordinatorUrl) rows.push(['Coordinator', escapeCell(f.coordinatorUrl)]);
  const coordinator = coordinatorErrorIn(f.error);
  if (coordinator) {
    const code = coordinator.problem?.code;
    rows.push(['Problem code', code !== undefined ? `<code>${escapeCell(code)}</code>` : escapeCell(coordinator.code)]);
    if (coordinator.status !== undefined) rows.push(['HTTP status', String(coordinator.status)]);
  }
  const [first = '', ...rest] = f.message.split('\n');
  const next = rest.filter((line) => line.trim() !== '');
  return [
    '### ztmint: no deploy token minted',
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `**What happened:** ${escapeCell(first)}`,
    '',
    ...(next.length > 0 ? ['**What to do:**', '', ...next.map((line) => `> ${escapeCell(line.trim())}`), ''] : []),
    'Every step that needs the token is skipped or fails; the full message is in the step log.',
    '',
  ].join('\n');
}
