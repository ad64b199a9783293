// The one way the Action writes text it does not control (coordinator responses, HTTP status
// text and headers, saved state, error messages of the network stack) to the job log.
//
// The runner reads workflow commands from every line of a step's output: a line that starts
// with `::` (after leading white space; lines end at CR, LF or CRLF) is a command, and so is
// `##[` anywhere in a line (the legacy syntax). A coordinator that could place either in the
// log could `::stop-commands::` the runner (so later `::add-mask::` lines are ignored and the
// secrets appear in clear), raise errors, or register masks of its own. So:
//
// - `untrusted(value)` makes one piece of outside text safe to embed in a message: one line,
//   every control character shown as an escape instead of acting.
// - `logSafe(message)` is applied to every message the Action writes (through SafeLog in
//   log.ts), whatever it holds: no control character but LF survives, no line can begin a
//   command, `##[` appears nowhere, and no line is longer than MAX_LINE_CHARS.

/**
 * Longest line written. Lines are cut only here, after the step's secrets were redacted: a cut
 * made earlier could leave a piece of a secret that neither redaction nor the runner's mask
 * recognises.
 */
export const MAX_LINE_CHARS = 2000;

// C0 controls (CR, LF, ESC, BEL...), DEL, C1 controls (NEL included), the Unicode line and
// paragraph separators, bidirectional overrides and isolates (which reorder what a reader sees),
// and the byte order mark / zero-width no-break space.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
// The same set without LF: what `logSafe` escapes in a message whose line breaks are ours.
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `\xNN` / `\uNNNN` for one character: visible, and no longer a control character. */
function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Lone UTF-16 surrogates cannot be written as UTF-8; show them as escapes too. */
function escapeLoneSurrogates(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, escapeChar);
}

/** Neutralises the two command syntaxes in one line (which has no line break left in it). */
function defuseLine(line: string): string {
  // `##[` anywhere starts a legacy command: break the sequence visibly.
  let out = line.split('##[').join('##\\x5b');
  // `::` at the start of a line, after white space, starts a command. (JavaScript's \s covers
  // the characters .NET's TrimStart removes, except NEL, which CONTROL turns into an escape.)
  out = out.replace(/^(\s*)::/, '$1\\x3a:');
  return out;
}

/**
 * Makes a message safe to write as one or more log lines: every control character except LF
 * becomes an escape, and no resulting line can start a workflow command or hold `##[`.
 */
export function logSafe(message: string): string {
  return message
    .replace(CONTROL_BUT_LF, escapeChar)
    .split('\n')
    .map((line) => defuseLine(escapeLoneSurrogates(cut(line))))
    .join('\n');
}

function cut(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… (${line.length - MAX_LINE_CHARS} more characters)` : line;
}

/**
 * One piece of outside text, ready to embed in a message: control characters (LF included)
 * escaped, so it stays on the line it is put on. The result holds neither `::` at its start
 * nor `##[`, so it is safe wherever it is put, even at a line start. (Not cut here: see
 * MAX_LINE_CHARS; its length is bounded by the body limits of response-body.ts.)
 */
export function untrusted(value: string): string {
  return defuseLine(escapeLoneSurrogates(value.replace(CONTROL, escapeChar)));
}
