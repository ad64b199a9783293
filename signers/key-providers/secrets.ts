// Secrets for unsealing: PKCS#11 PINs from the environment or a no-echo terminal prompt.
import { readFileSync } from 'node:fs';
import { SealError, type SecretOptions } from './types.js';

export const PIN_ENV = 'ZTMINT_PKCS11_PIN';
export const PIN_FILE_ENV = 'ZTMINT_PKCS11_PIN_FILE';

/** Reads a line from the terminal without echoing it; undefined when stdin is not a TTY. */
export async function ttyPrompt(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return undefined;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    // Echo off before the question shows, so a quick typist's PIN is never echoed.
    stdin.setRawMode(true);
    process.stderr.write(question);
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new SealError('no_secret', 'PIN entry cancelled'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * The user PIN for a token: $ZTMINT_PKCS11_PIN, else the first line of $ZTMINT_PKCS11_PIN_FILE
 * (e.g. a systemd credential), else a prompt. undefined means "no PIN available" (the caller may
 * still log in through a protected authentication path, e.g. a PIN pad).
 */
export async function resolvePin(tokenLabel: string, opts: SecretOptions = {}): Promise<string | undefined> {
  const env = opts.env ?? process.env;
  const fromEnv = env[PIN_ENV];
  if (fromEnv) return fromEnv;
  const pinFile = env[PIN_FILE_ENV];
  if (pinFile) {
    try {
      const line = readFileSync(pinFile, 'utf8').split(/\r?\n/, 1)[0] ?? '';
      if (line) return line;
    } catch (err) {
      throw new SealError('no_secret', `cannot read ${PIN_FILE_ENV} (${pinFile}): ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    throw new SealError('no_secret', `${PIN_FILE_ENV} (${pinFile}) is empty`);
  }
  const prompt = opts.prompt ?? ttyPrompt;
  const answer = await prompt(`PIN for PKCS#11 token "${tokenLabel}": `);
  return answer ? answer : undefined;
}
