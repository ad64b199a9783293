// The `pkcs11` provider: the share's content key depends on a key that never leaves a PKCS#11
// token (an HSM, SoftHSM2, or a YubiKey PIV slot through Yubico's ykcs11). Two modes:
//
//   aes-gcm    a random 256-bit data key is encrypted/decrypted inside the token with CKM_AES_GCM
//              under a non-extractable AES key; the sealed file keeps the encrypted data key.
//   ecdh-p256  an ephemeral P-256 key pair is made at seal time; its public half is kept in the
//              sealed file and the token's non-extractable P-256 key recomputes the shared secret
//              with CKM_ECDH1_DERIVE at unseal; HKDF-SHA256 turns it into the content key.
//
// All token calls are synchronous (pkcs11js), made between one C_Initialize and C_Finalize, so
// no two operations share a session. The PIN is read before the module is opened.
import { createECDH, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as P11 from 'pkcs11js';
import { b64url, fromB64url } from '../../protocol/encoding.js';
import { PIN_ENV, PIN_FILE_ENV, resolvePin } from './secrets.js';
import {
  SealError,
  shareAad,
  type ContentKey,
  type Pkcs11AesParams,
  type Pkcs11EcdhParams,
  type Pkcs11Location,
  type Pkcs11Params,
  type Pkcs11Target,
  type SealContext,
  type SecretOptions,
} from './types.js';

export const MODULE_ENV = 'ZTMINT_PKCS11_MODULE';

type Binding = typeof import('pkcs11js');
type Handle = P11.Handle;

const require = createRequire(import.meta.url);
let binding: Binding | undefined;

/** pkcs11js is a native addon: loaded only when a pkcs11 share is sealed or unsealed. */
function loadBinding(): Binding {
  if (!binding) {
    try {
      binding = require('pkcs11js') as Binding;
    } catch (err) {
      throw new SealError('provider_unavailable', `the pkcs11 provider needs the pkcs11js native addon, which did not load: ${(err as Error).message}`);
    }
  }
  return binding;
}

/** DER of the named curve P-256 (prime256v1, 1.2.840.10045.3.1.7) as CKA_EC_PARAMS holds it. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
const HKDF_SALT = Buffer.from('ztmint-ecdh-p256-v2');

function ckr(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const m = /CKR_[A-Z0-9_]+/.exec(String(e?.message ?? ''));
  return m ? m[0] : String(e?.message ?? err).split('\n', 1)[0]!;
}

function describeToken(loc: Pkcs11Location): string {
  if (loc.token_label !== undefined && loc.slot !== undefined) return `token "${loc.token_label}" in slot ${loc.slot}`;
  return loc.token_label !== undefined ? `token "${loc.token_label}"` : `the token in slot ${loc.slot}`;
}

function describeKey(loc: Pkcs11Location): string {
  const parts = [];
  if (loc.key_label !== undefined) parts.push(`label "${loc.key_label}"`);
  if (loc.key_id !== undefined) parts.push(`id ${loc.key_id}`);
  return parts.join(' and ');
}

function validateLocation(loc: Pkcs11Location): void {
  if (!loc.module) throw new SealError('config', "pkcs11: the module path is required (the token vendor's PKCS#11 .so)");
  if (loc.token_label === undefined && loc.slot === undefined) throw new SealError('config', 'pkcs11: set the token label or the slot ID');
  if (loc.key_label === undefined && loc.key_id === undefined) throw new SealError('config', 'pkcs11: set the key label or the key ID');
  if (loc.key_id !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(loc.key_id)) throw new SealError('config', `pkcs11: key ID must be hex (got ${loc.key_id})`);
  if (loc.slot !== undefined && (!Number.isSafeInteger(loc.slot) || loc.slot < 0)) throw new SealError('config', `pkcs11: slot must be a slot ID (got ${loc.slot})`);
}

function slotNumber(handle: Handle): number {
  return handle.length >= 8 ? Number(handle.readBigUInt64LE(0)) : handle.readUInt32LE(0);
}

/** One logged-in session on the selected token. */
class TokenSession {
  constructor(
    readonly lib: Binding,
    readonly p: P11.PKCS11,
    readonly session: Handle,
    readonly loc: Pkcs11Location,
    readonly tokenName: string,
  ) {}

  find(template: P11.Template): Handle[] {
    this.p.C_FindObjectsInit(this.session, template);
    try {
      return this.p.C_FindObjects(this.session, 64);
    } finally {
      this.p.C_FindObjectsFinal(this.session);
    }
  }

  attr(handle: Handle, type: number): Buffer | undefined {
    try {
      const [a] = this.p.C_GetAttributeValue(this.session, handle, [{ type }]);
      return a?.value;
    } catch {
      return undefined; // attribute absent, sensitive or not supported by this token
    }
  }

  flag(handle: Handle, type: number): boolean | undefined {
    const v = this.attr(handle, type);
    return v && v.length > 0 ? v.some((b) => b !== 0) : undefined;
  }

  ulong(handle: Handle, type: number): number | undefined {
    const v = this.attr(handle, type);
    if (!v || v.length === 0) return undefined;
    return v.length >= 8 ? Number(v.readBigUInt64LE(0)) : v.readUInt32LE(0);
  }

  keyTemplate(cls: number): P11.Template {
    const t: P11.Template = [{ type: this.lib.CKA_CLASS, value: cls }];
    if (this.loc.key_label !== undefined) t.push({ type: this.lib.CKA_LABEL, value: this.loc.key_label });
    if (this.loc.key_id !== undefined) t.push({ type: this.lib.CKA_ID, value: Buffer.from(this.loc.key_id, 'hex') });
    return t;
  }

  labelsOf(cls: number): string[] {
    return this.find([{ type: this.lib.CKA_CLASS, value: cls }])
      .map((h) => this.attr(h, this.lib.CKA_LABEL)?.toString('utf8') ?? '')
      .filter(Boolean)
      .slice(0, 10);
  }

  /** Exactly one key of this class matching the configured label/id, or a clear error. */
  key(cls: number, what: string): Handle {
    const found = this.find(this.keyTemplate(cls));
    if (found.length === 1) return found[0]!;
    if (found.length === 0) {
      const present = this.labelsOf(cls);
      throw new SealError(
        'key_not_found',
        `no ${what} with ${describeKey(this.loc)} on ${this.tokenName}` + (present.length ? ` (${what}s there: ${present.map((l) => `"${l}"`).join(', ')})` : ` (it holds no ${what})`),
      );
    }
    throw new SealError('config', `${found.length} ${what}s match ${describeKey(this.loc)} on ${this.tokenName}: set the key ID to pick one`);
  }

  /** Refuse keys that could leave the token (when the token reports these attributes). */
  requireNonExtractable(handle: Handle, what: string): void {
    const { CKA_EXTRACTABLE, CKA_SENSITIVE } = this.lib;
    if (this.flag(handle, CKA_EXTRACTABLE) === true || this.flag(handle, CKA_SENSITIVE) === false) {
      throw new SealError(
        'config',
        `the ${what} with ${describeKey(this.loc)} on ${this.tokenName} can be extracted from the token ` +
          '(CKA_EXTRACTABLE=true or CKA_SENSITIVE=false): generate it inside the token as sensitive and non-extractable',
      );
    }
  }
}

/** Opens the module, finds the token, logs in, runs fn, and always closes everything. */
function withToken<T>(loc: Pkcs11Location, pin: string | undefined, fn: (t: TokenSession) => T): T {
  const lib = loadBinding();
  const p = new lib.PKCS11();
  try {
    p.load(loc.module);
  } catch (err) {
    throw new SealError('provider_unavailable', `cannot load PKCS#11 module ${loc.module}: ${ckr(err)}`);
  }
  let initialized = false;
  let session: Handle | undefined;
  let loggedIn = false;
  try {
    try {
      p.C_Initialize();
      initialized = true;
    } catch (err) {
      if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        throw new SealError('provider_unavailable', `PKCS#11 module ${loc.module} failed to initialize: ${ckr(err)}`);
      }
    }
    const tokens = p.C_GetSlotList(true).map((slot) => {
      const info = p.C_GetTokenInfo(slot);
      return { slot, id: slotNumber(slot), label: info.label.replace(/[\s\0]+$/, ''), flags: info.flags };
    });
    const matches = tokens.filter((t) => (loc.token_label === undefined || t.label === loc.token_label) && (loc.slot === undefined || t.id === loc.slot));
    if (matches.length === 0) {
      const present = tokens.map((t) => `"${t.label}" (slot ${t.id})`).join(', ');
      throw new SealError('token_not_found', `no ${describeToken(loc)} in PKCS#11 module ${loc.module} (tokens present: ${present || 'none'})`);
    }
    if (matches.length > 1) {
      throw new SealError('config', `${matches.length} tokens are labelled "${loc.token_label}" in ${loc.module}: set the slot ID too`);
    }
    const token = matches[0]!;
    const tokenName = `token "${token.label}"`;
    session = p.C_OpenSession(token.slot, lib.CKF_SERIAL_SESSION);
    if (pin === undefined && token.flags & lib.CKF_PROTECTED_AUTHENTICATION_PATH) pin = '';
    if (pin === undefined && token.flags & lib.CKF_LOGIN_REQUIRED) {
      throw new SealError('no_secret', `no PIN for PKCS#11 ${tokenName}: set ${PIN_ENV} or ${PIN_FILE_ENV}, or run on a terminal to be prompted`);
    }
    if (pin !== undefined) {
      try {
        if (pin === '') p.C_Login(session, lib.CKU_USER);
        else p.C_Login(session, lib.CKU_USER, pin);
        loggedIn = true;
      } catch (err) {
        const code = ckr(err);
        if (code === 'CKR_USER_ALREADY_LOGGED_IN') loggedIn = false;
        else if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_INVALID' || code === 'CKR_PIN_LEN_RANGE') {
          throw new SealError('wrong_pin', `PKCS#11 login to ${tokenName} failed: wrong PIN (${code})`);
        } else if (code === 'CKR_PIN_LOCKED') {
          throw new SealError('pin_locked', `PKCS#11 login to ${tokenName} failed: the PIN is locked (${code}); unblock it with the SO PIN or PUK`);
        } else {
          throw new SealError('provider_unavailable', `PKCS#11 login to ${tokenName} failed (${code})`);
        }
      }
    }
    return fn(new TokenSession(lib, p, session, loc, tokenName));
  } finally {
    try {
      if (session && loggedIn) p.C_Logout(session);
    } catch {
      /* closing anyway */
    }
    try {
      if (session) p.C_CloseSession(session);
    } catch {
      /* closing anyway */
    }
    try {
      if (initialized) p.C_Finalize();
    } catch {
      /* closing anyway */
    }
    try {
      p.close();
    } catch {
      /* closing anyway */
    }
  }
}

function effectiveLocation<L extends Pkcs11Location>(params: L, env: NodeJS.ProcessEnv): L {
  const module = env[MODULE_ENV] || params.module;
  return { ...params, module };
}

function locationOf(target: Pkcs11Target): Pkcs11Location {
  const loc: Pkcs11Location = { type: 'pkcs11', module: target.module };
  if (target.tokenLabel !== undefined) loc.token_label = target.tokenLabel;
  if (target.slot !== undefined) loc.slot = target.slot;
  if (target.keyLabel !== undefined) loc.key_label = target.keyLabel;
  if (target.keyId !== undefined) loc.key_id = target.keyId.toLowerCase();
  validateLocation(loc);
  return loc;
}

function tokenDisplay(loc: Pkcs11Location): string {
  return loc.token_label ?? `slot ${loc.slot}`;
}

// ---------------------------------------------------------------- aes-gcm

function dekAad(ctx: SealContext): Buffer {
  return Buffer.concat([Buffer.from('ztmint-dek|'), shareAad(ctx, 'pkcs11/aes-gcm')]);
}

function gcmMechanism(lib: Binding, iv: Buffer, aad: Buffer): P11.Mechanism {
  const parameter: P11.AesGCM = { type: lib.CK_PARAMS_AES_GCM, iv, aad, ivBits: iv.length * 8, tagBits: 128 };
  return { mechanism: lib.CKM_AES_GCM, parameter };
}

function aesKey(t: TokenSession): Handle {
  const key = t.key(t.lib.CKO_SECRET_KEY, 'secret key');
  const type = t.ulong(key, t.lib.CKA_KEY_TYPE);
  if (type !== undefined && type !== t.lib.CKK_AES) {
    throw new SealError('wrong_key', `the secret key with ${describeKey(t.loc)} on ${t.tokenName} is not an AES key`);
  }
  return key;
}

function sealAes(loc: Pkcs11Location, pin: string | undefined, ctx: SealContext): ContentKey<Pkcs11AesParams> {
  return withToken(loc, pin, (t) => {
    const key = aesKey(t);
    t.requireNonExtractable(key, 'secret key');
    const dek = randomBytes(32);
    const iv = randomBytes(12);
    const out = Buffer.alloc(dek.length + 16 + 16);
    try {
      t.p.C_EncryptInit(t.session, gcmMechanism(t.lib, iv, dekAad(ctx)), key);
      const encrypted = Buffer.from(t.p.C_Encrypt(t.session, dek, out));
      if (encrypted.length !== dek.length + 16) throw new SealError('provider_unavailable', `${t.tokenName} returned ${encrypted.length} bytes for AES-GCM`);
      return { key: dek, params: { ...loc, mode: 'aes-gcm', dek_iv: b64url(iv), encrypted_dek: b64url(encrypted) } };
    } catch (err) {
      dek.fill(0);
      if (err instanceof SealError) throw err;
      throw new SealError('wrong_key', `${t.tokenName} could not encrypt with the key with ${describeKey(t.loc)} (${ckr(err)}): is it an AES key allowed to encrypt with CKM_AES_GCM?`);
    } finally {
      out.fill(0);
    }
  });
}

function unsealAes(params: Pkcs11AesParams, pin: string | undefined, ctx: SealContext): Buffer {
  return withToken(params, pin, (t) => {
    const key = aesKey(t);
    const encrypted = Buffer.from(fromB64url(params.encrypted_dek));
    const out = Buffer.alloc(encrypted.length + 16);
    try {
      t.p.C_DecryptInit(t.session, gcmMechanism(t.lib, Buffer.from(fromB64url(params.dek_iv)), dekAad(ctx)), key);
      const plain = t.p.C_Decrypt(t.session, encrypted, out);
      if (plain.length !== 32) throw new Error('CKR_DATA_LEN_RANGE');
      const dek = Buffer.alloc(32);
      plain.copy(dek);
      return dek;
    } catch (err) {
      throw new SealError(
        'unseal_failed',
        `cannot unseal: the key with ${describeKey(t.loc)} on ${t.tokenName} did not decrypt the data key ` +
          `(${ckr(err)}): it is not the key this share was sealed with, or the sealed share was tampered with`,
      );
    } finally {
      out.fill(0);
    }
  });
}

// ---------------------------------------------------------------- ecdh-p256

function ecPoint(value: Buffer | undefined): Buffer | undefined {
  if (!value) return undefined;
  if (value.length === 67 && value[0] === 0x04 && value[1] === 0x41 && value[2] === 0x04) return value.subarray(2); // DER OCTET STRING
  if (value.length === 65 && value[0] === 0x04) return value;
  return undefined;
}

/** The P-256 private key and the public point that belongs to it. */
function ecKey(t: TokenSession): { priv: Handle; point: Buffer | undefined } {
  const { lib } = t;
  const priv = t.key(lib.CKO_PRIVATE_KEY, 'private key');
  const type = t.ulong(priv, lib.CKA_KEY_TYPE);
  if (type !== undefined && type !== lib.CKK_EC) {
    throw new SealError('wrong_key', `the private key with ${describeKey(t.loc)} on ${t.tokenName} is not an EC key`);
  }
  const params = t.attr(priv, lib.CKA_EC_PARAMS);
  if (params && params.length && !params.equals(P256_PARAMS)) {
    throw new SealError('wrong_key', `the private key with ${describeKey(t.loc)} on ${t.tokenName} is not on curve P-256`);
  }
  // The public half: same CKA_ID (how ykcs11 pairs "Private key for …" with "Public key for …"),
  // else same label, else CKA_EC_POINT on the private key object itself.
  const id = t.attr(priv, lib.CKA_ID);
  let pubs: Handle[] = [];
  if (id && id.length)
    pubs = t.find([
      { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
      { type: lib.CKA_ID, value: id },
    ]);
  if (pubs.length !== 1 && t.loc.key_label !== undefined) {
    pubs = t.find([
      { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
      { type: lib.CKA_LABEL, value: t.loc.key_label },
    ]);
  }
  const point = pubs.length === 1 ? ecPoint(t.attr(pubs[0]!, lib.CKA_EC_POINT)) : ecPoint(t.attr(priv, lib.CKA_EC_POINT));
  return { priv, point };
}

/** CKM_ECDH1_DERIVE (CKD_NULL) with the token's private key; returns the raw 32-byte secret. */
function deriveSecret(t: TokenSession, priv: Handle, peer: Buffer): Buffer {
  const { lib, p, session } = t;
  const mechanism: P11.Mechanism = {
    mechanism: lib.CKM_ECDH1_DERIVE,
    parameter: { type: lib.CK_PARAMS_EC_DH, kdf: lib.CKD_NULL, publicData: peer } as P11.ECDH1,
  };
  const base: P11.Template = [
    { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
    { type: lib.CKA_KEY_TYPE, value: lib.CKK_GENERIC_SECRET },
    { type: lib.CKA_TOKEN, value: false },
  ];
  const full: P11.Template = [...base, { type: lib.CKA_SENSITIVE, value: false }, { type: lib.CKA_EXTRACTABLE, value: true }, { type: lib.CKA_VALUE_LEN, value: 32 }];
  let derived: Handle;
  try {
    derived = p.C_DeriveKey(session, mechanism, priv, full);
  } catch (err) {
    const code = ckr(err);
    // Some tokens take only the minimal template for a CKD_NULL derivation.
    if (!/TEMPLATE|ATTRIBUTE/.test(code)) throw err;
    derived = p.C_DeriveKey(session, mechanism, priv, base);
  }
  try {
    const [value] = p.C_GetAttributeValue(session, derived, [{ type: lib.CKA_VALUE }]);
    const z = Buffer.alloc(32);
    if (!value?.value || value.value.length < 32) throw new Error('CKR_KEY_SIZE_RANGE');
    value.value.subarray(value.value.length - 32).copy(z);
    value.value.fill(0);
    return z;
  } finally {
    try {
      p.C_DestroyObject(session, derived);
    } catch {
      /* session objects vanish with the session anyway */
    }
  }
}

function ecdhKey(z: Buffer, ephemeral: Buffer, recipient: Buffer, ctx: SealContext): Buffer {
  const info = Buffer.concat([ephemeral, recipient, shareAad(ctx, 'pkcs11/ecdh-p256')]);
  const raw = new Uint8Array(hkdfSync('sha256', z, HKDF_SALT, info, 32));
  const key = Buffer.alloc(32);
  key.set(raw);
  raw.fill(0);
  return key;
}

function sealEcdh(loc: Pkcs11Location, pin: string | undefined, ctx: SealContext): ContentKey<Pkcs11EcdhParams> {
  return withToken(loc, pin, (t) => {
    const { priv, point } = ecKey(t);
    t.requireNonExtractable(priv, 'private key');
    if (!point) {
      throw new SealError('key_not_found', `cannot find the public key of the private key with ${describeKey(t.loc)} on ${t.tokenName}: ECDH sealing needs it`);
    }
    const eph = createECDH('prime256v1');
    const ephemeral = eph.generateKeys();
    const zLocal = eph.computeSecret(point);
    let zToken: Buffer | undefined;
    try {
      // Prove now that the token can recompute the secret: a share sealed to a key the token
      // cannot use would be lost.
      try {
        zToken = deriveSecret(t, priv, ephemeral);
      } catch (err) {
        throw new SealError('wrong_key', `${t.tokenName} cannot derive with the key with ${describeKey(t.loc)} (${ckr(err)}): it needs CKA_DERIVE and CKM_ECDH1_DERIVE`);
      }
      if (!timingSafeEqual(zLocal, zToken)) {
        throw new SealError('wrong_key', `the public key found for ${describeKey(t.loc)} on ${t.tokenName} does not belong to its private key`);
      }
      const key = ecdhKey(zLocal, ephemeral, point, ctx);
      return {
        key,
        params: { ...loc, mode: 'ecdh-p256', kdf: 'HKDF-SHA256', ephemeral_public_key: b64url(ephemeral), recipient_public_key: b64url(point) },
      };
    } finally {
      zLocal.fill(0);
      zToken?.fill(0);
      try {
        eph.setPrivateKey(randomBytes(32)); // replace the ephemeral private key held by the ECDH object
      } catch {
        /* a random value outside the scalar range: the object is garbage now anyway */
      }
    }
  });
}

function unsealEcdh(params: Pkcs11EcdhParams, pin: string | undefined, ctx: SealContext): Buffer {
  return withToken(params, pin, (t) => {
    const { priv, point } = ecKey(t);
    const recipient = Buffer.from(fromB64url(params.recipient_public_key));
    if (point && !point.equals(recipient)) {
      throw new SealError('unseal_failed', `cannot unseal: the key with ${describeKey(t.loc)} on ${t.tokenName} is not the key this share was sealed to`);
    }
    const ephemeral = Buffer.from(fromB64url(params.ephemeral_public_key));
    let z: Buffer;
    try {
      z = deriveSecret(t, priv, ephemeral);
    } catch (err) {
      throw new SealError('unseal_failed', `cannot unseal: ${t.tokenName} refused the ECDH derivation with the key with ${describeKey(t.loc)} (${ckr(err)})`);
    }
    try {
      return ecdhKey(z, ephemeral, recipient, ctx);
    } finally {
      z.fill(0);
    }
  });
}

// ---------------------------------------------------------------- entry points

export async function pkcs11ContentKey(target: Pkcs11Target, ctx: SealContext, opts: SecretOptions = {}): Promise<ContentKey<Pkcs11Params>> {
  const loc = locationOf(target);
  const env = opts.env ?? process.env;
  const effective = effectiveLocation(loc, env);
  const pin = await resolvePin(tokenDisplay(loc), opts);
  const sealed = target.mode === 'aes-gcm' ? sealAes(effective, pin, ctx) : sealEcdh(effective, pin, ctx);
  // The file records the module path given at seal time, not an environment override.
  return { key: sealed.key, params: { ...sealed.params, module: loc.module } };
}

export async function pkcs11RecoverKey(params: Pkcs11Params, ctx: SealContext, opts: SecretOptions = {}): Promise<Buffer> {
  validateLocation(params);
  if (params.mode !== 'aes-gcm' && params.mode !== 'ecdh-p256') {
    throw new SealError('format', `pkcs11: unknown mode ${(params as { mode: string }).mode}`);
  }
  const env = opts.env ?? process.env;
  const pin = await resolvePin(tokenDisplay(params), opts);
  return params.mode === 'aes-gcm' ? unsealAes(effectiveLocation(params, env), pin, ctx) : unsealEcdh(effectiveLocation(params, env), pin, ctx);
}
