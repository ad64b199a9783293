// The signer isolation of deploy/kubernetes/base/networkpolicies.yaml, enforced for real: each
// signer runs in its own network namespace with nftables rules translated from the signers'
// NetworkPolicy (ingress: the coordinator's address, signer port only; egress: DNS and the OIDC
// issuer's JWKS only), the coordinator in its own namespace. Minting works end to end, the
// signers fetch the issuer's JWKS themselves, and from any other namespace the signers cannot be
// reached (while, before the rules, they could: the rules make the difference). Needs root.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';
import { CLI, ROOT, signerArgs } from './helpers/stack.js';
import { NetnsLab, type Member } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('netns-isolation: skipped — creating network namespaces and nftables rules needs root');

const SIGNER_PORT = 9443; // as in the manifests
const COORDINATOR_PORT = 8443;

interface PolicyPeer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: Array<{ protocol: string; port: number }>;
}
interface NetworkPolicy {
  metadata: { name: string };
  spec: { policyTypes: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] };
}

/** Where the policy's peers are in the lab: coordinator pods, the cluster DNS, the public internet (= the issuer). */
interface PeerMap {
  coordinator: string;
  dns: string;
  issuer: { address: string; port: number };
}

/**
 * nftables rules equal to a NetworkPolicy, for one pod's namespace: default drop both ways,
 * replies to allowed connections pass, and one accept per (peer, port) of each rule. The only
 * public endpoint in the lab is the issuer, so the policy's public ipBlock on 443 maps to it.
 */
function nftFromPolicy(policy: NetworkPolicy, peers: PeerMap): string {
  const resolve = (peer: PolicyPeer): { address: string; port?: number } => {
    if (peer.ipBlock) return { address: peers.issuer.address, port: peers.issuer.port };
    if (peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system') return { address: peers.dns };
    if (peer.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'coordinator') return { address: peers.coordinator };
    throw new Error(`no lab address for peer ${JSON.stringify(peer)}`);
  };
  const rules = (list: PolicyRule[] | undefined, direction: 'saddr' | 'daddr') =>
    (list ?? []).flatMap((rule) =>
      (direction === 'saddr' ? rule.from : rule.to)!.flatMap((peer) => {
        const target = resolve(peer);
        return (rule.ports ?? []).map((p) => {
          const port = direction === 'daddr' && p.port === 443 && target.port ? target.port : p.port;
          return `    ip ${direction} ${target.address} ${p.protocol.toLowerCase()} dport ${port} accept`;
        });
      }),
    );
  return [
    'table inet ztmint_policy {',
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    iif lo accept',
    '    ct state established,related accept',
    ...rules(policy.spec.ingress, 'saddr'),
    '  }',
    '  chain output {',
    '    type filter hook output priority 0; policy drop;',
    '    oif lo accept',
    '    ct state established,related accept',
    ...rules(policy.spec.egress, 'daddr'),
    '  }',
    '}',
    '',
  ].join('\n');
}

describe.skipIf(!isRoot)('signers isolated as the NetworkPolicies say (network namespaces + nftables)', () => {
  let lab: NetnsLab;
  let work: string;
  let issuer: DevIssuer;
  let coordinator: Member;
  let outsider: Member;
  let signers: Member[] = [];
  let coordinatorUrl: string;
  let policy: NetworkPolicy;
  const rulesets: string[] = [];

  beforeAll(async () => {
    const tools = spawnSync('bash', [join(ROOT, 'scripts', 'install-netns-tools.sh')], { encoding: 'utf8', timeout: 700_000 });
    if (tools.status !== 0) throw new Error(`installing iproute2/nftables failed: ${tools.stderr}`);
    const docs = parseAllDocuments(await readFile(join(ROOT, 'deploy', 'kubernetes', 'base', 'networkpolicies.yaml'), 'utf8')).map((d) => d.toJS() as NetworkPolicy);
    policy = docs.find((d) => d.metadata.name === 'ztmint-signer')!;

    work = await mkdtemp(join(tmpdir(), 'ztmint-netns-'));
    const state = join(work, 'state');
    const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--state', state, '--signers', '3', '--threshold', '2'], { encoding: 'utf8' });
    if (keygen.status !== 0) throw new Error(keygen.stderr);
    await mkdir(join(work, 'logs'));

    lab = new NetnsLab();
    const rootAddress = lab.attachRoot(5);
    coordinator = lab.member('co', 10);
    signers = [1, 2, 3].map((i) => lab.member(`s${i}`, 10 + i));
    outsider = lab.member('out', 99);
    coordinatorUrl = `http://${coordinator.address}:${COORDINATOR_PORT}`;
    // The issuer (JWKS) in the root namespace, reachable on the private network only.
    issuer = await startDevIssuer({ host: rootAddress, audience: () => coordinatorUrl });

    const started = await Promise.allSettled(
      signers.map((s, i) =>
        lab.startNode(
          s.ns,
          [CLI, ...signerArgs({ state, index: i + 1, host: s.address, port: SIGNER_PORT, coordinatorUrl, issuerUrl: issuer.url })],
          `signer-${i + 1}`,
          join(work, 'logs', `signer-${i + 1}.log`),
        ),
      ),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }, 300_000);

  afterAll(async () => {
    await issuer?.close();
    await lab?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('before any rule, an outsider reaches the signers (so the rules are what isolates them)', () => {
    expect(lab.canConnect(outsider.ns, signers[0]!.address, SIGNER_PORT)).toBe(true);
    expect(lab.canConnect(undefined, signers[1]!.address, SIGNER_PORT)).toBe(true);
  });

  it('with the NetworkPolicy as nftables rules in every signer namespace, minting works end to end', async () => {
    const issuerUrl = new URL(issuer.url);
    for (const s of signers) {
      const ruleset = nftFromPolicy(policy, {
        coordinator: coordinator.address,
        dns: lab.address(53),
        issuer: { address: issuerUrl.hostname, port: Number(issuerUrl.port) },
      });
      rulesets.push(ruleset);
      lab.nft(s.ns, ruleset);
    }
    expect(rulesets[0]).toContain(`ip saddr ${coordinator.address} tcp dport ${SIGNER_PORT} accept`);
    expect(rulesets[0]).toContain(`ip daddr ${issuerUrl.hostname} tcp dport ${issuerUrl.port} accept`);
    expect(rulesets[0]!.match(/accept/g)).toHaveLength(2 + 1 + 2 + 2 + 1); // lo+ct both ways, coordinator, DNS udp/tcp, issuer

    await lab.startNode(
      coordinator.ns,
      [
        CLI,
        'coordinator',
        '--state',
        join(work, 'state'),
        '--host',
        coordinator.address,
        '--port',
        String(COORDINATOR_PORT),
        '--oidc-issuer',
        issuer.url,
        '--oidc-audience',
        coordinatorUrl,
        ...signers.flatMap((s, i) => ['--signer', `signer-${i + 1}=https://${s.address}:${SIGNER_PORT}`]),
      ],
      'coordinator',
      join(work, 'logs', 'coordinator.log'),
    );

    const jwks = (await (await fetch(`${coordinatorUrl}/.well-known/jwks.json`)).json()) as { keys: [] };
    for (let i = 0; i < 3; i++) {
      const oidc = await issuer.issue({ aud: coordinatorUrl });
      const res = await fetch(`${coordinatorUrl}/v1/mint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: ['deploy:canary'] }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { token?: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      const { payload } = await jwtVerify(body.token!, createLocalJWKSet(jwks), { issuer: coordinatorUrl });
      expect(payload.scope).toBe('deploy:canary');
    }
  }, 180_000);

  it('from any other namespace the signers are unreachable; the coordinator still is', () => {
    for (const s of signers) {
      expect(lab.canConnect(outsider.ns, s.address, SIGNER_PORT), `outsider → ${s.ns}`).toBe(false);
      expect(lab.canConnect(undefined, s.address, SIGNER_PORT), `root namespace (issuer's address) → ${s.ns}`).toBe(false);
    }
    // Another signer is "any other namespace" too: signers cannot call each other.
    expect(lab.canConnect(signers[0]!.ns, signers[1]!.address, SIGNER_PORT)).toBe(false);
    // Other ports on a signer's address are closed to the coordinator as well.
    expect(lab.canConnect(coordinator.ns, signers[0]!.address, 22)).toBe(false);
    // Controls: the lab's network works; the coordinator is reachable, and reaches the signers.
    expect(lab.canConnect(outsider.ns, coordinator.address, COORDINATOR_PORT)).toBe(true);
    expect(lab.canConnect(coordinator.ns, signers[2]!.address, SIGNER_PORT)).toBe(true);
  }, 120_000);

  it("signers open connections only to the issuer's JWKS endpoint", () => {
    const issuerUrl = new URL(issuer.url);
    expect(lab.canConnect(signers[0]!.ns, issuerUrl.hostname, Number(issuerUrl.port))).toBe(true);
    expect(lab.canConnect(signers[0]!.ns, coordinator.address, COORDINATOR_PORT), 'signer → coordinator service').toBe(false);
    expect(lab.canConnect(signers[0]!.ns, outsider.address, 80), 'signer → elsewhere').toBe(false);
  }, 60_000);
});
