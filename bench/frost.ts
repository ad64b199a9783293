// Micro benchmark: CPU time of one complete 2-of-3 FROST(Ed25519, SHA-512) signature
// (2 commits, 2 signShares, aggregate including its signature check), for
//   frost_sign_ms   this project's libsodium implementation (protocol/ciphersuite.ts),
//   noble_frost_ms  @noble/curves' ed25519_FROST doing the same steps,
//   ed25519_ms      one single-key Ed25519 signature with node:crypto (OpenSSL),
// all in the same process, one thread, measured with process.cpuUsage() (user + system).
//
//   node build/bench/frost.js [--json] [--rounds N] [--quick] [--primitives]
//
// Progress and a table go to stderr; with --json, one JSON object goes to stdout.
// --primitives also times the libsodium calls one signature is made of (stderr only).
// Method and results: docs/benchmarks.md.
import { createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify } from 'node:crypto';
import { aggregate, CIPHERSUITE, commit, commitmentFromWire, frost, identifierFromIndex, signShare, toFrostPublic, verifyShare, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { scalarMul } from '../protocol/frost/scalar.js';
import { sodium } from '../protocol/frost/sodium.js';

interface Options {
  json: boolean;
  primitives: boolean;
  rounds: number;
  /** CPU seconds each subject gets per round (after warm-up). */
  budget: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { json: false, primitives: false, rounds: 5, budget: 0.6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--primitives') opts.primitives = true;
    else if (a === '--quick') {
      opts.rounds = 2;
      opts.budget = 0.15;
    } else if (a === '--rounds') opts.rounds = Math.max(1, Number(argv[++i]));
    else if (a === '--help' || a === '-h') {
      process.stderr.write('usage: node build/bench/frost.js [--json] [--rounds N] [--quick] [--primitives]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** CPU milliseconds (user + system) since `start`. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

interface Sample {
  cpuMs: number;
  wallMs: number;
}

/** Runs `fn` until `budgetMs` of CPU time has passed (at least `min` times); per-call averages. */
function measure(fn: () => void, budgetMs: number, min = 5): Sample {
  let n = 0;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  do {
    for (let i = 0; i < min; i++) fn();
    n += min;
  } while (cpuMsSince(cpu0) < budgetMs);
  const cpuMs = cpuMsSince(cpu0);
  return { cpuMs: cpuMs / n, wallMs: (performance.now() - wall0) / n };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function setup() {
  const ids = [1, 2, 3].map(identifierFromIndex);
  const deal = frost.trustedDealer({ min: 2, max: 3 }, ids);
  const group: GroupInfo = {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(deal.public.commitments[0]!),
    threshold: 2,
    signers: 3,
    identifiers: ids,
    verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([id, v]) => [id, b64url(v)])),
    commitments: deal.public.commitments.map((c) => b64url(c)),
  };
  const shares: SecretShare[] = [ids[0]!, ids[1]!].map((id) => deal.secretShares[id]!);
  // A JWT signing input of typical size (header.payload, ~700 bytes).
  const message = new TextEncoder().encode(`eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYifQ.${'x'.repeat(620)}`);
  return { group, shares, message };
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const { group, shares, message } = setup();
  const [s1, s2] = shares as [SecretShare, SecretShare];
  const pub = toFrostPublic(group);
  const groupKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: group.group_public_key }, format: 'jwk' });

  // --- subjects ---
  const ours = (): Uint8Array => {
    const c1 = commit(s1);
    const c2 = commit(s2);
    const list = [c1.commitment, c2.commitment];
    const z1 = signShare(s1, group, c1.nonces, list, message);
    const z2 = signShare(s2, group, c2.nonces, list, message);
    return aggregate(group, list, message, { [s1.identifier]: z1, [s2.identifier]: z2 });
  };
  const noble = (): Uint8Array => {
    const c1 = frost.commit(s1);
    const c2 = frost.commit(s2);
    const list = [c1.commitments, c2.commitments];
    const z1 = frost.signShare(s1, pub, c1.nonces, list, message);
    const z2 = frost.signShare(s2, pub, c2.nonces, list, message);
    return frost.aggregate(pub, list, message, { [s1.identifier]: z1, [s2.identifier]: z2 });
  };
  const single = generateKeyPairSync('ed25519');
  const ed25519 = (): Uint8Array => edSign(null, message, single.privateKey);

  // --- sanity: every subject produces signatures a standard verifier accepts ---
  for (const [name, fn, key] of [
    ['ours', ours, groupKey],
    ['noble', noble, groupKey],
    ['ed25519', ed25519, single.publicKey],
  ] as const) {
    if (!edVerify(null, message, key, fn())) throw new Error(`${name}: signature does not verify`);
  }

  // --- per-step breakdown of ours (stderr only) ---
  const steps = breakdown(group, s1, s2, message, opts.budget / 2);

  // --- warm-up, then interleaved rounds ---
  progress(`warm-up (${process.version}, ${CIPHERSUITE}, 2-of-3, message ${message.length} bytes)`);
  measure(ours, 300);
  measure(noble, 600, 2);
  measure(ed25519, 200, 50);
  const samples: Record<'ours' | 'noble' | 'ed25519', Sample[]> = { ours: [], noble: [], ed25519: [] };
  const budgetMs = opts.budget * 1000;
  for (let r = 1; r <= opts.rounds; r++) {
    samples.ours.push(measure(ours, budgetMs));
    samples.noble.push(measure(noble, budgetMs, 2));
    samples.ed25519.push(measure(ed25519, budgetMs, 50));
    const last = (k: keyof typeof samples) => samples[k][samples[k].length - 1]!.cpuMs.toFixed(4);
    progress(`round ${r}/${opts.rounds}: frost ${last('ours')} ms, noble ${last('noble')} ms, ed25519 ${last('ed25519')} ms`);
  }

  const cpu = (k: keyof typeof samples) => median(samples[k].map((s) => s.cpuMs));
  const wall = (k: keyof typeof samples) => median(samples[k].map((s) => s.wallMs));
  const round = (x: number, digits = 4) => Number(x.toFixed(digits));
  const result = {
    frost_sign_ms: round(cpu('ours')),
    noble_frost_ms: round(cpu('noble')),
    ed25519_ms: round(cpu('ed25519')),
    noble_over_frost: round(cpu('noble') / cpu('ours'), 2),
    frost_over_ed25519: round(cpu('ours') / cpu('ed25519'), 2),
  };

  const rows: Array<[string, string, string, string]> = [
    ['subject', 'CPU ms', 'wall ms', 'note'],
    ['frost_sign_ms', cpu('ours').toFixed(4), wall('ours').toFixed(4), '2 commits + 2 signShares + aggregate (libsodium)'],
    ['noble_frost_ms', cpu('noble').toFixed(4), wall('noble').toFixed(4), 'same steps, @noble/curves ed25519_FROST'],
    ['ed25519_ms', cpu('ed25519').toFixed(4), wall('ed25519').toFixed(4), 'node:crypto sign, one key'],
    ...steps.map(([name, ms, note]): [string, string, string, string] => [`  ${name}`, ms.toFixed(4), '', note]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i as 0]!.length)));
  progress('');
  for (const r of rows) progress(r.map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  '));
  if (opts.primitives) primitives(opts.budget / 2);
  progress('');
  progress(`noble_frost_ms / frost_sign_ms = ${result.noble_over_frost} (target ≥ 30)`);
  progress(`frost_sign_ms / ed25519_ms     = ${result.frost_over_ed25519} (target ≤ 30)`);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** CPU ms of each step of ours, for "where the time goes" (stderr table only). */
function breakdown(group: GroupInfo, s1: SecretShare, s2: SecretShare, message: Uint8Array, budget: number): Array<[string, number, string]> {
  const budgetMs = budget * 1000;
  const commitMs = measure(() => commit(s1), budgetMs, 20).cpuMs;
  // signShare consumes its nonces: measure commit + signShare, then subtract commit.
  const other = commit(s2);
  const signShareMs =
    measure(
      () => {
        const c1 = commit(s1);
        signShare(s1, group, c1.nonces, [c1.commitment, other.commitment], message);
      },
      budgetMs,
      10,
    ).cpuMs - commitMs;
  const c1 = commit(s1);
  const c2 = commit(s2);
  const list = [c1.commitment, c2.commitment];
  const z1 = signShare(s1, group, c1.nonces, list, message);
  const z2 = signShare(s2, group, c2.nonces, list, message);
  const shares = { [s1.identifier]: z1, [s2.identifier]: z2 };
  const aggregateMs = measure(() => aggregate(group, list, message, shares), budgetMs, 10).cpuMs;
  const verifyShareMs = measure(() => verifyShare(group, list, message, s1.identifier, z1), budgetMs, 10).cpuMs;
  // Sanity: noble agrees that these shares verify.
  if (!frost.verifyShare(toFrostPublic(group), list.map(commitmentFromWire), message, s1.identifier, z1)) {
    throw new Error('noble rejects our share');
  }
  return [
    ['commit', commitMs, 'one signer, round 1'],
    ['signShare', signShareMs, 'one signer, round 2 (measured as commit+signShare − commit)'],
    ['aggregate', aggregateMs, 'coordinator, incl. the one signature check'],
    ['verifyShare', verifyShareMs, 'only when aggregate fails (naming culprits)'],
  ];
}

/** CPU µs of each libsodium call, with how often one 2-of-3 signature makes it. */
function primitives(budget: number): void {
  const budgetMs = budget * 1000;
  const scalar = new Uint8Array(32);
  const other = new Uint8Array(32);
  sodium.crypto_core_ed25519_scalar_reduce(scalar, new Uint8Array(64).fill(0x5a));
  sodium.crypto_core_ed25519_scalar_reduce(other, new Uint8Array(64).fill(0xa5));
  const P = new Uint8Array(32);
  const Q = new Uint8Array(32);
  sodium.crypto_scalarmult_ed25519_base_noclamp(P, scalar);
  sodium.crypto_scalarmult_ed25519_base_noclamp(Q, other);
  const out = new Uint8Array(32);
  const wide = new Uint8Array(64);
  const message = new Uint8Array(691);
  const key = generateKeyPairSync('ed25519');
  const signature = new Uint8Array(edSign(null, message, key.privateKey));
  const publicKey = new Uint8Array(Buffer.from(key.publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  if (!sodium.crypto_sign_verify_detached(signature, message, publicKey)) throw new Error('libsodium rejects an OpenSSL signature');
  const hashInput = new Uint8Array(220);
  const rows: Array<[string, number, string, () => void]> = [
    ['crypto_scalarmult_ed25519_noclamp', 4, 'rho_j·E_j (validates E_j: [L]E_j = 0)', () => sodium.crypto_scalarmult_ed25519_noclamp(out, scalar, P)],
    ['crypto_core_ed25519_is_valid_point', 4, 'D_j of the other signers', () => sodium.crypto_core_ed25519_is_valid_point(P)],
    ['crypto_scalarmult_ed25519_base_noclamp', 6, '4 nonce commitments, 2 own terms (d + rho·e)·G', () => sodium.crypto_scalarmult_ed25519_base_noclamp(out, scalar)],
    ['crypto_core_ed25519_add', 7, 'D_j + rho_j·E_j and the sum R', () => sodium.crypto_core_ed25519_add(out, P, Q)],
    ['crypto_sign_verify_detached', 1, 'the aggregate signature, once', () => sodium.crypto_sign_verify_detached(signature, message, publicKey)],
    ['crypto_hash_sha512 (220 B)', 22, 'H1, H2, H3, H4, H5, nonce tags', () => sodium.crypto_hash_sha512(wide, hashInput)],
    ['scalarMul (JS limbs + scalar_reduce)', 6, 'rho·e, lambda·c, lambda·c·s', () => scalarMul(out, scalar, other)],
    ['crypto_core_ed25519_scalar_add', 6, 'k = d + rho·e, z = k + lambda·c·s, sum of shares', () => sodium.crypto_core_ed25519_scalar_add(out, scalar, other)],
  ];
  progress('');
  progress('libsodium call                          CPU µs  × per signature  = µs   what for');
  let total = 0;
  for (const [name, count, what, fn] of rows) {
    const us = measure(fn, budgetMs, 20).cpuMs * 1000;
    total += us * count;
    progress(`${name.padEnd(38)} ${us.toFixed(2).padStart(7)}  × ${String(count).padStart(2)}             ${(us * count).toFixed(0).padStart(4)}   ${what}`);
  }
  progress(`${'sum of the above'.padEnd(38)} ${''.padStart(7)}                    ${total.toFixed(0).padStart(4)}`);
}

main();
