// classifySigningMessage: the FROST key signs JWS signing inputs and checkpoint notes, so a signer
// must tell them apart without ambiguity before it releases a share. This checks that real tokens
// are JWS, real checkpoints are checkpoints, cosignature messages are cosignatures, nothing can be
// two of them, and anything else is unknown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../transparency/checkpoint.js';
import { cosignedMessage } from '../transparency/cosignature.js';
import { classifySigningMessage } from '../transparency/signing-message.js';
import { b64url, utf8 } from '../protocol/encoding.js';

const jws = (h: object, p: object) => utf8(`${b64url(utf8(JSON.stringify(h)))}.${b64url(utf8(JSON.stringify(p)))}`);
const root = new Uint8Array(32).fill(3);

describe('classifySigningMessage', () => {
  it('recognises a token signing input as JWS', () => {
    const m = classifySigningMessage(jws({ alg: 'EdDSA', typ: 'JWT', kid: 'k' }, { jti: 'j', iss: 'i' }));
    expect(m.kind).toBe('jws');
    if (m.kind === 'jws') expect(m.payload.jti).toBe('j');
  });

  it('recognises a checkpoint note text and a cosignature message', () => {
    const text = formatCheckpoint({ origin: 'ztmint.example/log', size: 12, rootHash: root, extensions: [] });
    const cp = classifySigningMessage(utf8(text));
    expect(cp.kind).toBe('checkpoint');
    if (cp.kind === 'checkpoint') expect(cp.checkpoint.size).toBe(12);
    const co = classifySigningMessage(cosignedMessage(text, 77));
    expect(co.kind).toBe('cosignature');
    if (co.kind === 'cosignature') expect(co.timestamp).toBe(77);
  });

  it('calls everything else unknown', () => {
    const r = Buffer.from(root).toString('base64');
    const unknown = [
      '',
      'hello',
      'a.b.c',
      `${b64url(utf8('[1]'))}.${b64url(utf8('{}'))}`,
      `${b64url(utf8('{}'))}.${b64url(utf8('{}'))}\n`,
      `${b64url(utf8('{}'))}=.${b64url(utf8('{}'))}`,
      `ztmint.example/log\n12\n${r}`,
      `ztmint.example/log\n012\n${r}\n`,
      `cosignature/v1\n12\n${r}\n`,
      `cosignature/v1\ntime 01\nlog\n1\n${r}\n`,
      `cosignature/v1\ntime x\nlog\n1\n${r}\n`,
      'ztmint.example/log\r\n12\r\n' + r + '\r\n',
    ];
    for (const u of unknown) expect(classifySigningMessage(utf8(u)).kind, JSON.stringify(u)).toBe('unknown');
  });

  it('no JWS is a checkpoint and no checkpoint is a JWS (random inputs)', () => {
    fc.assert(
      fc.property(fc.object(), fc.object(), (h, p) => {
        expect(classifySigningMessage(jws(h, p)).kind).toBe('jws');
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !/[\s+\u0000-\u001f\u0085]/u.test(s) && !/\p{Cs}/u.test(s) && s !== 'cosignature/v1'),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (origin, size, rootHash) => {
          const text = formatCheckpoint({ origin, size, rootHash, extensions: [] });
          expect(classifySigningMessage(utf8(text)).kind).toBe('checkpoint');
        },
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const kind = classifySigningMessage(bytes).kind;
        if (kind === 'jws') expect(bytes.includes(0x0a)).toBe(false);
        if (kind === 'checkpoint' || kind === 'cosignature') expect(bytes[bytes.length - 1]).toBe(0x0a);
      }),
      { numRuns: 500 },
    );
  });
});
