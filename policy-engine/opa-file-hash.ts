// The digest OPA records for each file of a signed bundle (`.signatures.json`, OPA's
// bundle/hash.go), so that bundles built by `opa build --signing-key` verify here and ours verify
// in OPA. Unstructured files (policy.wasm, *.rego) are hashed as bytes. Structured files (data.json,
// .manifest) are hashed over a canonical walk of their JSON, independent of whitespace and key order:
// objects as `{` key `:` value `,` … `}` with keys sorted, arrays as `[` … `]`, strings as Go's
// encoder writes them (no HTML escaping), numbers as their literal text (OPA decodes with
// json.Number, so `1.0` and `1` hash differently). JSON.parse would lose the literal, hence the
// small reader below.
import { createHash, type Hash } from 'node:crypto';
import { BundleError } from './bundle-archive.js';

/** Hash algorithms accepted in a bundle signature; OPA's MD5 and SHA-1 are refused as broken. */
const ALGORITHMS: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

class NumberLiteral {
  constructor(readonly text: string) {}
}
type JsonTree = null | boolean | string | NumberLiteral | JsonTree[] | Map<string, JsonTree>;

/** Files OPA treats as structured documents (bundle.IsStructuredDoc). */
function isStructuredBundleFile(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base === 'data.json' || base === '.manifest';
}

/** Go's encoding/json string form with SetEscapeHTML(false); lone surrogates were U+FFFD already in Go's decoder. */
function goString(value: string): string {
  return JSON.stringify((value as string & { toWellFormed(): string }).toWellFormed())
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function parseTree(text: string): JsonTree {
  let i = 0;
  const fail = (what: string): never => {
    throw new BundleError('bundle_json_invalid', `invalid JSON at offset ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JsonTree => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const map = new Map<string, JsonTree>();
      ws();
      if (text[i] === '}') return (i++, map);
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = str();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        map.delete(key); // a repeated key keeps its last value, as Go's decoder does
        map.set(key, value());
        ws();
        const next = text[i++];
        if (next === '}') return map;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const list: JsonTree[] = [];
      ws();
      if (text[i] === ']') return (i++, list);
      for (;;) {
        list.push(value());
        ws();
        const next = text[i++];
        if (next === ']') return list;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) return fail('unexpected character');
    i += literal[0].length;
    if (literal[0] === 'true') return true;
    if (literal[0] === 'false') return false;
    if (literal[0] === 'null') return null;
    return new NumberLiteral(literal[0]);
  };
  const tree = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return tree;
}

function walk(tree: JsonTree, h: Hash): void {
  if (tree instanceof Map) {
    h.update('{');
    [...tree.keys()].sort().forEach((key, n) => {
      if (n > 0) h.update(',');
      h.update(goString(key));
      h.update(':');
      walk(tree.get(key)!, h);
    });
    h.update('}');
  } else if (Array.isArray(tree)) {
    h.update('[');
    tree.forEach((item, n) => {
      if (n > 0) h.update(',');
      walk(item, h);
    });
    h.update(']');
  } else if (tree instanceof NumberLiteral) h.update(tree.text);
  else if (typeof tree === 'string') h.update(goString(tree));
  else h.update(JSON.stringify(tree));
}

/** Hex digest of one bundle file as OPA computes it; throws for an algorithm we refuse. */
export function opaFileHash(name: string, bytes: Uint8Array, algorithm = 'SHA-256'): string {
  const node = ALGORITHMS[algorithm];
  if (!node) throw new BundleError('bundle_hash_algorithm', `file ${name}: hash algorithm ${JSON.stringify(algorithm)} is not accepted (use SHA-256, SHA-384 or SHA-512)`);
  const h = createHash(node);
  if (isStructuredBundleFile(name)) walk(parseTree(Buffer.from(bytes).toString('utf8')), h);
  else h.update(bytes);
  return h.digest('hex');
}
