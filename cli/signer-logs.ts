// Reading every signer's share log over mTLS, checked end to end: the signer's /v1/info names its
// log's origin and note key (the mTLS channel authenticates the signer by its CA-issued
// certificate, so the key is the signer's own), then the checkpoint is opened with that key and
// every tile and entry bundle is checked against it (verifyLogCopy). A copy that does not verify
// is an error, never a partial answer.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { ZtmintError } from '../errors/ztmint-error.js';
import type { ShareLogEntry } from '../signers/share-log.js';
import { ed25519NoteVerifier } from '../transparency/signed-note.js';
import { verifyLogCopy, type VerifiedLogCopy } from '../transparency/verify-copy.js';
import type { DevStackFile } from './dev-stack-file.js';

const TIMEOUT_MS = 30_000;

export interface SignerLogCopy {
  signer: string;
  url: string;
  origin: string;
  key: string;
  copy: VerifiedLogCopy & { entries: Uint8Array[] };
  records: ShareLogEntry[];
}

export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** The operator's mTLS client pair of a dev stack (the admin certificate, allowed by --log-client admin). */
export async function operatorTls(stack: DevStackFile): Promise<ClientTls> {
  const [ca, cert, key] = await Promise.all([readFile(stack.tls.ca, 'utf8'), readFile(stack.tls.admin_cert, 'utf8'), readFile(stack.tls.admin_key, 'utf8')]);
  return { ca, cert, key };
}

async function get(agent: Agent, url: string): Promise<Uint8Array> {
  const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = new Uint8Array(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new ZtmintError('signer_log_unreadable', `GET ${url} answered ${res.statusCode}: ${new TextDecoder().decode(body).slice(0, 300)}`);
  return body;
}

/** Reads and checks one signer's share log. */
export async function readSignerLog(signer: string, url: string, tls: ClientTls): Promise<SignerLogCopy> {
  const agent = new Agent({ connect: { ...tls, servername: signer, rejectUnauthorized: true } });
  try {
    const info = JSON.parse(new TextDecoder().decode(await get(agent, `${url}/v1/info`))) as { share_log?: { origin: string; key: string } };
    if (!info.share_log) throw new ZtmintError('signer_log_unreadable', `${signer} at ${url} keeps no share log (an older signer): upgrade it`);
    const { origin, key } = info.share_log;
    const copy = await verifyLogCopy({ fetch: (path) => get(agent, `${url}/v1/log/${path}`), origin, verifiers: [ed25519NoteVerifier(key)], entries: true });
    const records = copy.entries!.map((e) => JSON.parse(new TextDecoder().decode(e)) as ShareLogEntry);
    return { signer, url, origin, key, copy: copy as SignerLogCopy['copy'], records };
  } finally {
    await agent.close();
  }
}

/** Every signer of a running dev stack, as `signer-<index>` and its URL. */
export function stackSigners(stack: DevStackFile): Array<{ name: string; url: string }> {
  return stack.signers.map((s) => ({ name: `signer-${s.index}`, url: s.url }));
}
