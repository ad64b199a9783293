// C2SP signed-note, tlog-checkpoint and tlog-cosignature as implemented in transparency/: the
// spec's own example verifies, strict parsing refuses every malformed variant the spec rules out,
// signatures from known keys must verify, unknown ones are ignored, and origins are checked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from '../transparency/checkpoint.js';
import { cosign, cosignedMessage, ed25519SeedCosigner, parseCosignerKey, verifyCosignatures } from '../transparency/cosignature.js';
import { TransparencyError } from '../transparency/errors.js';
import { ED25519_TYPE, addSignatureLines, ed25519NoteVerifier, ed25519SeedSigner, formatVerifierKey, keyId, openNote, parseNote, parseVerifierKey } from '../transparency/signed-note.js';

const seed = (b: number) => new Uint8Array(32).fill(b);

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof TransparencyError) return err.code;
    throw err;
  }
  return undefined;
}

// The example of c2sp.org/signed-note (§ Verifier keys, Example), data only.
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE = 'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('C2SP signed-note', () => {
  it("verifies the spec's example under its verifier key", () => {
    const key = parseVerifierKey(SPEC_VKEY);
    expect(key.name).toBe('example.com/foo');
    expect(key.keyId).toBe(0x530d903a);
    expect(key.keyId).toBe(keyId(key.name, ED25519_TYPE, key.publicKey));
    const opened = openNote(SPEC_NOTE, [ed25519NoteVerifier(SPEC_VKEY)]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verifiedBy).toEqual(['example.com/foo']);
  });

  it('round-trips a note signed by two keys, verifiable by either', async () => {
    const a = ed25519SeedSigner('log.example/a', seed(1));
    const b = ed25519SeedSigner('log.example/b', seed(2));
    const { signNote } = await import('../transparency/signed-note.js');
    const note = await signNote('hello\n\nworld\n', [a, b]);
    expect(parseNote(note).text).toBe('hello\n\nworld\n');
    expect(openNote(note, [ed25519NoteVerifier(a.vkey)]).verifiedBy).toEqual([a.name]);
    expect(openNote(note, [ed25519NoteVerifier(a.vkey), ed25519NoteVerifier(b.vkey)]).verifiedBy).toEqual([a.name, b.name]);
    expect(openNote(new TextEncoder().encode(note), [ed25519NoteVerifier(b.vkey)]).unknown).toHaveLength(1);
  });

  it('refuses malformed notes', () => {
    const good = SPEC_NOTE;
    const sigLine = good.slice(good.indexOf('— '));
    const cases: Record<string, string | Uint8Array> = {
      'CRLF line endings': good.replace(/\n/g, '\r\n'),
      'a tab in the text': 'This is\tan example message.\n\n' + sigLine,
      'no blank line': good.replace('\n\n', '\n'),
      'no signature lines': 'This is an example message.\n\n',
      'signature line without final newline': good.slice(0, -1),
      'hyphen instead of em dash': good.replace('— ', '- '),
      'no space after the dash': good.replace('— ', '—'),
      'empty key name': good.replace('— example.com/foo ', '—  '),
      'plus in key name': good.replace('example.com/foo ', 'example.com+foo '),
      'unicode space in key name': good.replace('example.com/foo ', 'example.com\u00a0foo '),
      'non-canonical base64': good.replace('aQM=', 'aQN='),
      'base64 with junk': good.replace('Uw2Q', 'Uw*Q'),
      'too short signature': 'x\n\n— a AAAA\n',
      'invalid UTF-8': new Uint8Array([...new TextEncoder().encode('x\xff'), 0xff, 0x0a, 0x0a]),
      'a NUL byte': 'x\u0000\n\n' + sigLine,
    };
    for (const [what, note] of Object.entries(cases)) {
      expect(
        code(() => parseNote(note)),
        what,
      ).toBe('tlog_malformed');
    }
    const tooMany = 'x\n\n' + '— a AAAAAAA=\n'.repeat(101);
    expect(code(() => parseNote(tooMany))).toBe('tlog_malformed');
    // At least 16 signatures must be accepted.
    expect(parseNote('x\n\n' + '— a AAAAAAA=\n'.repeat(16)).signatures).toHaveLength(16);
  });

  it('refuses a bad signature from a known key, and a note no known key signed', () => {
    const verifier = ed25519NoteVerifier(SPEC_VKEY);
    const tampered = SPEC_NOTE.replace('example message', 'exemplary message');
    expect(code(() => openNote(tampered, [verifier]))).toBe('tlog_bad_signature');
    const other = ed25519SeedSigner('example.com/foo', seed(9));
    expect(code(() => openNote(SPEC_NOTE, [ed25519NoteVerifier(other.vkey)]))).toBe('tlog_bad_signature');
    // Same name, other key ID: ignored as unknown, so no known key signed.
    const flippedId = SPEC_NOTE.replace('Uw2QOkn8', 'Uw2QOkn9');
    expect(code(() => openNote(flippedId, [verifier]))).toBe('tlog_bad_signature');
  });

  it('is stricter than Go where the spec allows: a second, bad line by a key that signed; a BOM in a name', () => {
    const verifier = ed25519NoteVerifier(SPEC_VKEY);
    const sigLine = SPEC_NOTE.slice(SPEC_NOTE.indexOf('— '));
    const badSecond = sigLine.replace('Uw2QOkn8srV1', 'Uw2QOkn8srV2');
    // Go skips a repeated (name, key ID) without verifying it; we verify every line of a known key.
    expect(code(() => openNote(SPEC_NOTE + badSecond, [verifier]))).toBe('tlog_bad_signature');
    expect(openNote(SPEC_NOTE + sigLine, [verifier]).verifiedBy).toEqual(['example.com/foo']);
    expect(code(() => parseNote(SPEC_NOTE.replace('— example.com/foo', '— example.com/\ufefffoo')))).toBe('tlog_malformed');
  });

  it('parses verifier keys strictly', () => {
    const k = ed25519SeedSigner('log.example/x', seed(3)).vkey;
    expect(formatVerifierKey('log.example/x', parseVerifierKey(k).publicKey)).toBe(k);
    const name = 'log.example/x';
    const id = k.slice(name.length + 1, name.length + 9);
    const key = k.slice(name.length + 10);
    const bad = {
      'uppercase key ID': `${name}+${id.toUpperCase()}+${key}`,
      'short key ID': `${name}+${id.slice(1)}+${key}`,
      'wrong key ID': `${name}+${(Number.parseInt(id, 16) ^ 1).toString(16).padStart(8, '0')}+${key}`,
      'other name': `log.example/y+${id}+${key}`,
      'four parts': `${name}+x+${id}+${key}`,
      'empty name': `+${id}+${key}`,
      'unknown type': `${name}+${id}+${Buffer.from([0x09, ...parseVerifierKey(k).publicKey]).toString('base64')}`,
      'short key': `${name}+${id}+${Buffer.from([0x01, 1, 2, 3]).toString('base64')}`,
    };
    for (const [what, vkey] of Object.entries(bad))
      expect(
        code(() => parseVerifierKey(vkey)),
        what,
      ).toBe('tlog_malformed');
  });
});

describe('C2SP tlog-checkpoint', () => {
  const log = ed25519SeedSigner('ztmint.example/log', seed(4));
  const root = new Uint8Array(32).fill(7);

  it('formats and parses origin, size and root, with extension lines', () => {
    const text = formatCheckpoint({ origin: 'ztmint.example/log', size: 42, rootHash: root, extensions: ['ext one'] });
    expect(text).toBe(`ztmint.example/log\n42\n${Buffer.from(root).toString('base64')}\next one\n`);
    const cp = parseCheckpoint(text);
    expect(cp.size).toBe(42);
    expect(cp.extensions).toEqual(['ext one']);
  });

  it('refuses malformed checkpoints', () => {
    const r = Buffer.from(root).toString('base64');
    const bad = {
      'leading zero size': `o\n042\n${r}\n`,
      'negative size': `o\n-1\n${r}\n`,
      'size with plus': `o\n+1\n${r}\n`,
      'size too large': `o\n99999999999999999999\n${r}\n`,
      'no final newline': `o\n1\n${r}`,
      'empty origin': `\n1\n${r}\n`,
      'short root': `o\n1\n${Buffer.alloc(31).toString('base64')}\n`,
      'root not canonical': `o\n1\n${r.slice(0, -2)}d=\n`,
      'missing root': `o\n1\n`,
      'empty extension line': `o\n1\n${r}\n\n`,
      CRLF: `o\r\n1\r\n${r}\r\n`,
    };
    for (const [what, text] of Object.entries(bad))
      expect(
        code(() => parseCheckpoint(text)),
        what,
      ).toBe('tlog_malformed');
    expect(parseCheckpoint(`o\n0\n${r}\n`).size).toBe(0);
  });

  it('opens only for the expected origin and key', async () => {
    const note = await signCheckpoint({ origin: 'ztmint.example/log', size: 3, rootHash: root, extensions: [] }, [log]);
    const opened = openCheckpoint(note, [ed25519NoteVerifier(log.vkey)], 'ztmint.example/log');
    expect(opened.checkpoint.size).toBe(3);
    expect(code(() => openCheckpoint(note, [ed25519NoteVerifier(log.vkey)], 'ztmint.example/other'))).toBe('tlog_malformed');
    const otherKey = ed25519SeedSigner('ztmint.example/log', seed(5));
    expect(code(() => openCheckpoint(note, [ed25519NoteVerifier(otherKey.vkey)], 'ztmint.example/log'))).toBe('tlog_bad_signature');
    const bigger = note.replace('\n3\n', '\n4\n');
    expect(code(() => openCheckpoint(bigger, [ed25519NoteVerifier(log.vkey)], 'ztmint.example/log'))).toBe('tlog_bad_signature');
  });
});

describe('C2SP tlog-cosignature (Ed25519, type 0x04)', () => {
  const log = ed25519SeedSigner('ztmint.example/log', seed(4));
  const witness = ed25519SeedCosigner('witness.example/w1', seed(6));
  const text = formatCheckpoint({ origin: 'ztmint.example/log', size: 9, rootHash: new Uint8Array(32).fill(1), extensions: [] });

  it('signs cosignature/v1 + time + checkpoint, and verifies with the timestamp', async () => {
    expect(new TextDecoder().decode(cosignedMessage(text, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${text}`);
    const note = await signCheckpoint(parseCheckpoint(text), [log]);
    const cosigned = addSignatureLines(note, [await cosign(witness, text, 1679315147)]);
    expect(verifyCosignatures(cosigned, [parseCosignerKey(witness.vkey)])).toEqual([{ name: witness.name, timestamp: 1679315147 }]);
    // The log's own signature still verifies; the cosignature is an unknown line to log clients.
    expect(openNote(cosigned, [ed25519NoteVerifier(log.vkey)]).unknown).toHaveLength(1);
    // A key of type 0x04 is not accepted as a plain note key and vice versa.
    expect(code(() => ed25519NoteVerifier(witness.vkey))).toBe('tlog_malformed');
    expect(code(() => parseCosignerKey(log.vkey))).toBe('tlog_malformed');
    // A timestamp edit, a future date (when bounded) and a cosignature over other text all fail.
    const line = await cosign(witness, text, 1000);
    const raw = Buffer.from(line.trim().split(' ')[2]!, 'base64');
    raw[4 + 7] = raw[4 + 7]! ^ 1;
    const edited = addSignatureLines(note, [`— ${witness.name} ${raw.toString('base64')}\n`]);
    expect(code(() => verifyCosignatures(edited, [parseCosignerKey(witness.vkey)]))).toBe('tlog_bad_signature');
    const future = addSignatureLines(note, [await cosign(witness, text, 5000)]);
    expect(code(() => verifyCosignatures(future, [parseCosignerKey(witness.vkey)], { now: 1000, maxFutureSeconds: 60 }))).toBe('tlog_bad_signature');
    const otherText = formatCheckpoint({ origin: 'ztmint.example/log', size: 10, rootHash: new Uint8Array(32).fill(1), extensions: [] });
    const misplaced = addSignatureLines(note, [await cosign(witness, otherText, 1000)]);
    expect(code(() => verifyCosignatures(misplaced, [parseCosignerKey(witness.vkey)]))).toBe('tlog_bad_signature');
  });

  it('a cosignature never verifies as a log signature and a log signature never as a cosignature', async () => {
    // Same Ed25519 seed for both roles: the key IDs differ (type byte) and so do the signed bytes.
    const sameKeyLog = ed25519SeedSigner('dual.example', seed(8));
    const sameKeyWitness = ed25519SeedCosigner('dual.example', seed(8));
    expect(sameKeyLog.keyId).not.toBe(sameKeyWitness.keyId);
    const note = await signCheckpoint(parseCheckpoint(text), [sameKeyLog]);
    expect(verifyCosignatures(note, [parseCosignerKey(sameKeyWitness.vkey)])).toEqual([]);
  });
});

describe('random notes round-trip', () => {
  it('any valid text signed by a key verifies, and any changed byte of text is refused', async () => {
    const key = ed25519SeedSigner('p.example/k', seed(10));
    const { signNote } = await import('../transparency/signed-note.js');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', minLength: 1 }).filter((l) => !/[\u0000-\u001f]/.test(l)),
          { minLength: 1, maxLength: 4 },
        ),
        fc.nat(),
        async (lines, at) => {
          const text = lines.join('\n') + '\n';
          const note = await signNote(text, [key]);
          expect(openNote(note, [ed25519NoteVerifier(key.vkey)]).text).toBe(text);
          const bytes = new TextEncoder().encode(note);
          const pos = at % new TextEncoder().encode(text).length;
          const changed = new Uint8Array(bytes);
          changed[pos] = changed[pos] === 0x41 ? 0x42 : 0x41;
          expect(() => openNote(changed, [ed25519NoteVerifier(key.vkey)])).toThrow(TransparencyError);
        },
      ),
      { numRuns: 50 },
    );
  });
});
