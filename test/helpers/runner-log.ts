// Reads a step's output the way the GitHub runner does, to check what a hostile coordinator
// could make of it:
//
// - lines end at CR, LF or CRLF (the runner reads process output with .NET's ReadLine);
// - a line whose text, after leading white space, starts with `::` is a workflow command
//   (`::name props::data`, data escaped as %25 %0D %0A);
// - `##[` anywhere in a line starts a legacy command (`##[name props]data`);
// - `::add-mask::value` masks `value` in every later line; `::stop-commands::token` stops all
//   command processing (masks included) until `::token::`.
//
// `ownCommandViolations` lists every command the Action would not write itself, and
// `unmaskedSecrets` applies the masks registered so far to each line and reports every secret
// (or a piece of one) that would still show.

export interface LoggedCommand {
  /** 0-based index of the line in the stream. */
  line: number;
  syntax: 'v2' | 'legacy';
  name: string;
  /** The command's data, unescaped. */
  data: string;
  raw: string;
}

/** The runner's line split: CR, LF and CRLF each end a line. */
function runnerLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function unescapeData(data: string): string {
  return data.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

/** Every command the runner would see in `text`, in order. */
export function parseRunnerCommands(text: string): LoggedCommand[] {
  const out: LoggedCommand[] = [];
  runnerLines(text).forEach((raw, line) => {
    const trimmed = raw.trimStart();
    if (trimmed.startsWith('::')) {
      const end = trimmed.indexOf('::', 2);
      const head = end < 0 ? trimmed.slice(2) : trimmed.slice(2, end);
      const name = head.split(' ')[0] ?? '';
      out.push({ line, syntax: 'v2', name, data: end < 0 ? '' : unescapeData(trimmed.slice(end + 2)), raw });
    }
    // The runner tries the legacy syntax on lines that are not v2 commands; counting it on
    // every line is stricter: the Action writes `##[` nowhere.
    let at = raw.indexOf('##[');
    while (at >= 0) {
      const close = raw.indexOf(']', at);
      const head = close < 0 ? raw.slice(at + 3) : raw.slice(at + 3, close);
      out.push({ line, syntax: 'legacy', name: head.split(' ')[0] ?? '', data: close < 0 ? '' : raw.slice(close + 1), raw });
      at = raw.indexOf('##[', at + 3);
    }
  });
  return out;
}

export interface OwnCommands {
  /** Values the Action may register as masks (the secrets it was given or minted). */
  masks: readonly string[];
  /** Group names the Action may open. */
  groups: readonly string[];
}

/** Commands in `text` that the Action would not write: anything but its own masks, groups and annotations. */
export function ownCommandViolations(text: string, own: OwnCommands): string[] {
  const bad: string[] = [];
  for (const c of parseRunnerCommands(text)) {
    const where = `line ${c.line}: ${JSON.stringify(c.raw.slice(0, 200))}`;
    if (c.syntax === 'legacy') {
      bad.push(`legacy command ##[${c.name} at ${where}`);
      continue;
    }
    switch (c.name) {
      case 'error':
      case 'warning':
      case 'debug':
      case 'endgroup':
        break;
      case 'group':
        if (!own.groups.includes(c.data)) bad.push(`group not opened by the Action at ${where}`);
        break;
      case 'add-mask':
        if (!own.masks.includes(c.data)) bad.push(`mask not registered by the Action at ${where}`);
        break;
      default:
        bad.push(`command ::${c.name}:: at ${where}`);
    }
  }
  return bad;
}

/** The parts of a secret that must never show: itself and, for a JWT, its payload and signature. */
function secretPieces(secret: string): string[] {
  const parts = secret.split('.');
  const pieces = parts.length === 3 ? [secret, parts[1]!, parts[2]!] : [secret];
  // A secret with line breaks shows line by line; each line long enough to identify it counts.
  pieces.push(...secret.split(/\r\n|\r|\n/));
  return [...new Set(pieces.filter((p) => p.length >= 8))];
}

/**
 * Replays `stdout` as the runner would, with the masks registered by earlier lines (and
 * stop-commands honoured: after it, masks are ignored), and returns a description of every
 * place a secret (or a piece of one) would show. `elsewhere` (stderr, the job summary, file
 * commands that are not meant to hold it) must not hold any piece at all.
 */
export function unmaskedSecrets(stdout: string, secrets: readonly string[], elsewhere: Record<string, string> = {}): string[] {
  const found: string[] = [];
  const masks: string[] = [];
  let stopToken: string | undefined;
  runnerLines(stdout).forEach((raw, i) => {
    const trimmed = raw.trimStart();
    if (stopToken !== undefined) {
      if (trimmed === `::${stopToken}::`) stopToken = undefined;
    } else if (trimmed.startsWith('::add-mask::')) {
      const value = unescapeData(trimmed.slice('::add-mask::'.length));
      if (value !== '') masks.push(value);
      return; // The runner does not print the mask command itself.
    } else if (trimmed.startsWith('::stop-commands::')) {
      stopToken = trimmed.slice('::stop-commands::'.length);
    }
    let shown = raw;
    for (const m of [...masks].sort((a, b) => b.length - a.length)) shown = shown.split(m).join('***');
    for (const secret of secrets) {
      if (secretPieces(secret).some((p) => shown.includes(p))) found.push(`stdout line ${i} shows a secret: ${JSON.stringify(shown.slice(0, 120))}`);
    }
  });
  for (const [name, text] of Object.entries(elsewhere)) {
    for (const secret of secrets) {
      if (secretPieces(secret).some((p) => text.includes(p))) found.push(`${name} shows a secret`);
    }
  }
  return found;
}
