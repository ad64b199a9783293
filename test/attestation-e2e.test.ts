// SEV-SNP across the real process tree: signers serve the real Milan report from
// test/vectors/sev-snp/virtee (see test/vectors/SOURCES.md). Its REPORT_DATA cannot bind our signers'
// TLS keys, so a coordinator that requires attestation uses none of them, and one that does not
// require it mints as usual.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSnpReport } from '../attestation/sev-snp/report.js';
import { generateKeyPairSync } from 'node:crypto';
import { SignerClient } from '../coordinator/signer-client.js';
import { signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';

const DIR = new URL('vectors/sev-snp/virtee/', import.meta.url);
const report = fileURLToPath(new URL('report_milan.hex', DIR));
const vcek = fileURLToPath(new URL('vcek_milan.der', DIR));
const measurement = Buffer.from(parseSnpReport(Buffer.from(readFileSync(report, 'utf8').replace(/\s+/g, ''), 'hex')).measurement).toString('hex');

let stack: DevStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('SEV-SNP attestation between coordinator and signers', () => {
  it('refuses signers whose report does not bind their TLS key: not ready, no token, reason logged', async () => {
    stack = await startDevStack(['--snp-report', report, '--snp-vcek', vcek], { REQUIRE_SNP_ATTESTATION: 'true', SNP_MEASUREMENTS: measurement });
    const ready = await fetch(`${stack.coordinator}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, signers_reachable: 0 });
    const res = await stack.mint(await stack.idToken());
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'quorum_unavailable' });
    expect(res.body.token).toBeUndefined();
    expect(stack.output()).toMatch(/attestation refused \(report_data\)/);
  });

  it('refuses an unknown measurement by name', async () => {
    stack = await startDevStack(['--snp-report', report, '--snp-vcek', vcek], { REQUIRE_SNP_ATTESTATION: 'true', SNP_MEASUREMENTS: '0'.repeat(96) });
    expect((await stack.mint(await stack.idToken())).status).toBe(503);
    expect(stack.output()).toMatch(/attestation refused \(measurement\)/);
  });

  it('serves the evidence in /v1/info and mints normally when attestation is not required', async () => {
    stack = await startDevStack(['--snp-report', report, '--snp-vcek', vcek], { REQUIRE_SNP_ATTESTATION: 'false' });
    const res = await stack.mint(await stack.idToken());
    expect(res.status).toBe(200);

    // The coordinator's client in SEV-SNP mode: no connection before a key is pinned, and only
    // connections presenting the pinned key afterwards.
    const tls = await signerTls(stack.state);
    const endpoint = { name: 'signer-1', url: stack.signers[0]!.url };
    const peer = await new SignerClient(endpoint, tls, { preprocessing: false }).infoWithPeer();
    expect(peer.info.attestation).toMatchObject({ type: 'sev-snp' });
    const unpinned = new SignerClient(endpoint, tls, { preprocessing: false, requirePinnedKey: true });
    await expect(unpinned.info()).rejects.toThrow(/unreachable/);
    unpinned.pin(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
    await expect(unpinned.info()).rejects.toThrow(/unreachable/);
    await unpinned.close();
    const pinned = new SignerClient(endpoint, tls, { preprocessing: false, requirePinnedKey: true });
    pinned.pin(peer.spki);
    expect((await pinned.info()).identifier).toBe(peer.info.identifier);
    await pinned.close();
  });
});
