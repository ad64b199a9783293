// A loopback stand-in for an OCI Vault crypto endpoint: `POST /20180608/encrypt` and
// `POST /20180608/decrypt` with the real service's JSON bodies and error shape, and request
// authentication the way OCI does it (draft-cavage HTTP signatures, `Signature version="1",
// keyId="<tenancy>/<user>/<fingerprint>",algorithm="rsa-sha256",headers="…",signature="…"`),
// verified against each test user's RSA public key, with the body hash, length and date checked.
// So oci-sdk's request signing runs for real against it.
import { createCipheriv, createDecipheriv, createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

export interface OciIdentity {
  tenancy: string;
  user: string;
  fingerprint: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** An OCI API-key identity as `oci setup keys` makes one: RSA 2048, MD5 fingerprint of the DER SPKI. */
export function makeOciIdentity(name = 'signer'): OciIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('md5').update(der).digest('hex').match(/../g)!.join(':');
  return {
    tenancy: `ocid1.tenancy.oc1..aaaa${randomBytes(12).toString('hex')}`,
    user: `ocid1.user.oc1..aaaa${name}${randomBytes(8).toString('hex')}`,
    fingerprint,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

function makeKeyOcid(): string {
  return `ocid1.key.oc1.iad.standin.${randomBytes(16).toString('hex')}`;
}

interface VaultKey {
  id: string;
  versionId: string;
  secret: Buffer;
  /** keyIds (tenancy/user/fingerprint) allowed to use the key; every known user when absent. */
  users?: string[];
}

interface StandinRequest {
  path: string;
  keyId?: string;
  status: number;
  code?: string;
}

export interface OciKmsStandin {
  url: string;
  keys: Map<string, VaultKey>;
  requests: StandinRequest[];
  addKey(users?: OciIdentity[]): string;
  addUser(identity: OciIdentity): void;
  stop(): Promise<void>;
}

const SIGNATURE_FIELDS = /(\w+)="([^"]*)"/g;
const MAX_SKEW_MS = 5 * 60_000;

function keyIdOf(identity: OciIdentity): string {
  return `${identity.tenancy}/${identity.user}/${identity.fingerprint}`;
}

/** The associated data as the service binds it: a canonical (sorted) JSON of the map. */
function aadOf(associatedData: unknown): Buffer {
  if (associatedData === undefined || associatedData === null) return Buffer.alloc(0);
  const entries = Object.entries(associatedData as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries));
}

export async function startOciKmsStandin(users: OciIdentity[] = []): Promise<OciKmsStandin> {
  const publicKeys = new Map<string, KeyObject>();
  const keys = new Map<string, VaultKey>();
  const requests: StandinRequest[] = [];
  for (const u of users) publicKeys.set(keyIdOf(u), createPublicKey(u.publicKeyPem));

  const send = (res: ServerResponse, log: StandinRequest, status: number, body: Record<string, unknown>) => {
    log.status = status;
    if (typeof body.code === 'string') log.code = body.code;
    requests.push(log);
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'opc-request-id': randomUUID().replace(/-/g, '').toUpperCase() });
    res.end(text);
  };
  const notAuthenticated = (res: ServerResponse, log: StandinRequest) =>
    send(res, log, 401, { code: 'NotAuthenticated', message: 'The required information to complete authentication was not provided or was incorrect.' });
  const notFound = (res: ServerResponse, log: StandinRequest) => send(res, log, 404, { code: 'NotAuthorizedOrNotFound', message: 'resource not found or not authorized' });

  /** Returns the caller's keyId when the request carries a valid OCI signature. */
  const authenticate = (req: IncomingMessage, body: Buffer): string | undefined => {
    const auth = req.headers.authorization;
    if (!auth || !auth.startsWith('Signature ')) return undefined;
    const fields = Object.fromEntries([...auth.slice('Signature '.length).matchAll(SIGNATURE_FIELDS)].map((m) => [m[1]!, m[2]!]));
    if (fields.version !== '1' || fields.algorithm !== 'rsa-sha256' || !fields.keyId || !fields.headers || !fields.signature) return undefined;
    const publicKey = publicKeys.get(fields.keyId);
    if (!publicKey) return undefined;
    // Header names are case-insensitive (oci-sdk lists `Content-Type Content-Length`); the signing
    // string uses them lower-cased, as draft-cavage says.
    const signed = fields.headers.split(' ').map((h) => h.toLowerCase());
    const required = ['(request-target)', 'host', 'x-content-sha256', 'content-type', 'content-length'];
    if (!required.every((h) => signed.includes(h)) || !(signed.includes('date') || signed.includes('x-date'))) return undefined;
    const lines: string[] = [];
    for (const h of signed) {
      if (h === '(request-target)') lines.push(`(request-target): ${req.method!.toLowerCase()} ${req.url}`);
      else {
        const v = req.headers[h];
        if (typeof v !== 'string') return undefined;
        lines.push(`${h}: ${v}`);
      }
    }
    if (!verify('sha256', Buffer.from(lines.join('\n')), publicKey, Buffer.from(fields.signature, 'base64'))) return undefined;
    // What the signature covers must also be true of the request.
    if (req.headers['x-content-sha256'] !== createHash('sha256').update(body).digest('base64')) return undefined;
    if (Number(req.headers['content-length']) !== body.length) return undefined;
    const date = Date.parse(String(req.headers['x-date'] ?? req.headers.date));
    if (!Number.isFinite(date) || Math.abs(Date.now() - date) > MAX_SKEW_MS) return undefined;
    return fields.keyId;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const log: StandinRequest = { path: req.url ?? '', status: 0 };
      const op = req.method === 'POST' && (req.url === '/20180608/encrypt' || req.url === '/20180608/decrypt') ? req.url.slice(10) : undefined;
      if (!op) return notFound(res, log);
      const caller = authenticate(req, body);
      if (!caller) return notAuthenticated(res, log);
      log.keyId = caller;
      let details: Record<string, unknown>;
      try {
        details = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return send(res, log, 400, { code: 'InvalidParameter', message: 'The request body is not valid JSON.' });
      }
      const key = keys.get(String(details.keyId));
      if (!key || (key.users && !key.users.includes(caller))) return notFound(res, log);
      if (details.encryptionAlgorithm !== undefined && details.encryptionAlgorithm !== 'AES_256_GCM') {
        return send(res, log, 400, { code: 'InvalidParameter', message: 'Unsupported encryption algorithm for an AES key.' });
      }
      const aad = aadOf(details.associatedData);
      if (op === 'encrypt') {
        const plaintext = Buffer.from(String(details.plaintext ?? ''), 'base64');
        if (plaintext.length === 0 || plaintext.length > 4096) {
          return send(res, log, 400, { code: 'InvalidParameter', message: 'plaintext must be 1 to 4096 bytes, base64-encoded.' });
        }
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
        cipher.setAAD(aad);
        const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        const blob = Buffer.concat([Buffer.from([1]), Buffer.from(key.versionId.slice(-16)), iv, ct, cipher.getAuthTag()]);
        return send(res, log, 200, { ciphertext: blob.toString('base64'), keyId: key.id, keyVersionId: key.versionId, encryptionAlgorithm: 'AES_256_GCM' });
      }
      try {
        const blob = Buffer.from(String(details.ciphertext ?? ''), 'base64');
        if (blob[0] !== 1 || blob.length < 1 + 16 + 12 + 16 + 1 || blob.subarray(1, 17).toString() !== key.versionId.slice(-16)) throw new Error('version');
        const decipher = createDecipheriv('aes-256-gcm', key.secret, blob.subarray(17, 29));
        decipher.setAAD(aad);
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(29, blob.length - 16)), decipher.final()]);
        return send(res, log, 200, {
          plaintext: plaintext.toString('base64'),
          plaintextChecksum: String(crc32(plaintext)),
          keyId: key.id,
          keyVersionId: key.versionId,
          encryptionAlgorithm: 'AES_256_GCM',
        });
      } catch {
        return send(res, log, 400, { code: 'InvalidParameter', message: 'The ciphertext or associated data is invalid for this key.' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    keys,
    requests,
    addKey(allowed?: OciIdentity[]) {
      const id = makeKeyOcid();
      const entry: VaultKey = { id, versionId: `ocid1.keyversion.oc1.iad.standin.${randomBytes(16).toString('hex')}`, secret: randomBytes(32) };
      if (allowed) entry.users = allowed.map(keyIdOf);
      keys.set(id, entry);
      return id;
    },
    addUser(identity: OciIdentity) {
      publicKeys.set(keyIdOf(identity), createPublicKey(identity.publicKeyPem));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Environment for the oci-kms provider: the identity's API key written 0600 under `dir`. */
export async function ociEnv(identity: OciIdentity, dir: string): Promise<Record<string, string>> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const keyPath = join(dir, `oci-api-key-${randomBytes(4).toString('hex')}.pem`);
  await writeFile(keyPath, identity.privateKeyPem, { mode: 0o600 });
  return {
    ZTMINT_OCI_TENANCY: identity.tenancy,
    ZTMINT_OCI_USER: identity.user,
    ZTMINT_OCI_FINGERPRINT: identity.fingerprint,
    ZTMINT_OCI_PRIVATE_KEY_PATH: keyPath,
  };
}
