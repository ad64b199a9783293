// The canonical JSON behind audit record hashes and the DKG transcript is RFC 8785 (JCS): checked
// against the RFC's own examples (§3.2.2 serialisation, §3.2.3 property sorting, Appendix B
// numbers), so an outside verifier's JCS library computes the same bytes.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FILE, AuditLog, recordHash, verifyAuditText } from '../coordinator/audit.js';
import { canonicalJson, wellFormedJson } from '../protocol/canonical-json.js';

/** An IEEE 754 double from its 16 hex digits, as Appendix B lists them. */
function double(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('RFC 8785 (JCS)', () => {
  it("§3.2.2: the sample input serialises to the RFC's output", () => {
    // The RFC's input, parsed as JSON (its numbers and escapes are what is being tested).
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`) as unknown;
    expect(canonicalJson(input)).toBe(String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
  });

  it('§3.2.3: properties sort by UTF-16 code units, not code points or locale', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`) as Record<string, string>;
    const out = canonicalJson(input);
    // (Read the values off the text: JS objects put the integer-like key "1" first.)
    expect([...out.matchAll(/:"([^"]*)"/g)].map((m) => m[1])).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 although its code point is larger.
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B: the double %s serialises as %s', (hex, text) => {
    expect(canonicalJson(double(hex))).toBe(text);
    expect(canonicalJson([double(hex)])).toBe(`[${text}]`);
  });

  it('Appendix B: NaN and Infinity have no JCS form', () => {
    expect(() => canonicalJson(double('7fffffffffffffff'))).toThrow(/NaN/);
    expect(() => canonicalJson(double('7ff0000000000000'))).toThrow(/Infinity/);
  });

  it('refuses unpaired surrogates (I-JSON), and wellFormedJson replaces them by U+FFFD', () => {
    expect(() => canonicalJson({ sub: 'x\ud800' })).toThrow(/surrogate/i);
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow(/surrogate/i);
    const fixed = wellFormedJson({ sub: 'x\ud800\ud800', ok: '😀', ['\udc00k']: ['\ud83d', 1, null] });
    expect(fixed).toEqual({ sub: 'x\ufffd\ufffd', ok: '😀', ['\ufffdk']: ['\ufffd', 1, null] });
    expect(canonicalJson(fixed)).toBe('{"ok":"😀","sub":"x\ufffd\ufffd","\ufffdk":["\ufffd",1,null]}');
  });

  it('leaves out members whose value is undefined, as JSON.stringify does', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
  });
});

describe('audit record hash', () => {
  it('is SHA-256 of the JCS form of the record without its hash', () => {
    const record = { event: 'deny' as const, index: 0, time: '2026-01-01T00:00:00.000Z', prev: '0'.repeat(64), reasons: ['€', 'a'], ttl: 300 };
    // Written out by hand in JCS order: what an outside verifier hashes.
    const jcs = `{"event":"deny","index":0,"prev":"${'0'.repeat(64)}","reasons":["€","a"],"time":"2026-01-01T00:00:00.000Z","ttl":300}`;
    expect(recordHash(record)).toBe(createHash('sha256').update(jcs, 'utf8').digest('hex'));
  });

  it('stores a claim with unpaired surrogates as U+FFFD, so the chain still verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztmint-jcs-'));
    try {
      const log = await AuditLog.open(dir);
      await log.append({ event: 'deny', oidc: { sub: 'repo:\ud800x' }, request: { audience: 'x\udc00' } });
      await log.close();
      const text = await readFile(join(dir, AUDIT_FILE), 'utf8');
      expect(verifyAuditText(text).count).toBe(1);
      const record = JSON.parse(text) as { oidc: { sub: string }; request: { audience: string } };
      expect([record.oidc.sub, record.request.audience]).toEqual(['repo:\ufffdx', 'x\ufffd']);
      // A record edited to hold one is refused by name, not hashed some other way.
      const edited = text.replace('\ufffdx', '\\ud800x');
      expect(() => verifyAuditText(edited)).toThrow(/record 0: not representable in RFC 8785 JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
