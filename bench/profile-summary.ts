// Summarises .cpuprofile files (V8 CPU profiles): self time by function and by module/package,
// and total (inclusive) time of selected frames.
//
//   node build/bench/profile-summary.js FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url;
  const m = /\/build\/(.*)$/.exec(url);
  return m ? m[1]! : url;
}

/** Categories for "where the time goes"; the innermost frame that matches one decides. */
const CATEGORIES: Array<[string, (f: CallFrame, where: string) => boolean]> = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['FROST (libsodium + glue)', (_f, w) => w === 'sodium-native' || w.startsWith('protocol/frost/') || w === 'protocol/ciphersuite.js'],
  ['Ed25519 check (node:crypto)', (f, w) => w === 'protocol/jwk.js' && f.functionName === 'verifyEd25519'],
  ['OIDC verification (jose)', (_f, w) => w === 'jose' || w === 'protocol/oidc-verifier.js'],
  ['policy (opa-wasm)', (_f, w) => w.includes('opa') || w === 'protocol/policy-eval.js'],
  ['mint check / token building', (_f, w) => w === 'signers/mint-check.js' || w === 'protocol/token.js' || w === 'protocol/encoding.js'],
  ['audit log (hash, JSON, write, fdatasync)', (_f, w) => w === 'coordinator/audit.js' || w === 'protocol/canonical-json.js' || w === 'node:internal/fs/promises'],
  [
    'sockets, TLS, streams',
    (f, w) =>
      ['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String'].includes(f.functionName) ||
      ['node:net', 'node:_tls_wrap', 'node:internal/stream_base_commons', 'node:internal/streams/readable', 'node:internal/streams/writable'].includes(w),
  ],
  ['HTTP client (undici)', (_f, w) => w === 'undici' || w === 'coordinator/signer-client.js'],
  [
    'HTTP server (fastify, node:http, JSON, schemas)',
    (_f, w) =>
      [
        'fastify',
        'find-my-way',
        'secure-json-parse',
        'ajv',
        'fast-json-stringify',
        'avvio',
        'light-my-request',
        'pino',
        'node:_http_server',
        'node:_http_common',
        'node:_http_incoming',
        'node:_http_outgoing',
      ].includes(w),
  ],
  ['signing run, pool, nonce store', (_f, w) => ['coordinator/signing.js', 'coordinator/commitment-pool.js', 'signers/nonce-store.js', 'signers/server.js'].includes(w)],
  ['mint route, metrics, rate limit', (_f, w) => w.startsWith('coordinator/') || w === 'prom-client'],
];

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const idle = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const busy = total - idle;
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame)}:${node.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = where(node.callFrame);
    mod.set(m, (mod.get(m) ?? 0) + us);
    // Inclusive time per (function, module), counted once per stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const k = `${f.functionName || '(anonymous)'} ${where(f)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const cat = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    let name = 'other (event loop, promises, runtime)';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const hit = CATEGORIES.find(([, match]) => match(f, where(f)));
      if (hit) {
        name = hit[0];
        break;
      }
    }
    cat.set(name, (cat.get(name) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const print = (title: string, map: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s profiled, busy ${(busy / 1e6).toFixed(2)} s\n`);
  print('by category (innermost matching frame)', cat, CATEGORIES.length + 1);
  print('self time by module', mod, top);
  print('self time by function', fn, top);
  print('inclusive time by function', incl, top * 2);
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
for (const file of args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1))) summarise(file, top);
