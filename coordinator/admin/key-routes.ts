// Admin routes of key rotation (docs/keys.md), on the admin listener only (admin-server.ts):
//
//   GET  /v1/admin/keys          the key set with its schedule, and each signer's key ring
//   POST /v1/admin/keys/rotate   {activation_delay?, overlap?} (seconds; defaults from the options):
//                                a new DKG across the running signers, then publish → activate → retire
//   POST /v1/admin/keys/refresh  {}: new shares of the key signing now, from every holder
//   POST /v1/admin/keys/repair   {index, helpers?}: a lost share rebuilt by t helpers
//   POST /v1/admin/keys/reshare  {threshold, signers, dealers?}: the same key as a T-of-N sharing
//                                over signers 1..N (coordinator/share-change.ts)
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendProblem } from '../../http/problem-response.js';
import type { KeySet } from '../key-set.js';
import { RotationError, type RotationResult } from '../key-rotation.js';
import { ShareChangeError, type ShareChangeRequest, type ShareChangeResult } from '../share-change.js';

export interface AdminKeyDeps {
  keys: KeySet;
  now: () => number;
  rotate(params: { activationDelayS?: number; overlapS?: number }): Promise<RotationResult>;
  signerRings(): Promise<unknown[]>;
  changeShares(req: ShareChangeRequest): Promise<ShareChangeResult>;
}

const index = { type: 'integer', minimum: 1, maximum: 255 };
const indexList = { type: 'array', items: index, minItems: 1, maxItems: 255, uniqueItems: true };
const shareSchemas = {
  refresh: { type: 'object', additionalProperties: false, properties: {} },
  repair: { type: 'object', additionalProperties: false, required: ['index'], properties: { index, helpers: indexList } },
  reshare: { type: 'object', additionalProperties: false, required: ['threshold', 'signers'], properties: { threshold: index, signers: index, dealers: indexList } },
};

const rotateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    activation_delay: { type: 'integer', minimum: 0, maximum: 604_800 },
    overlap: { type: 'integer', minimum: 0, maximum: 2_592_000 },
  },
};

/** Where a key stands at `nowS`. */
function stateOf(k: { published_at: number; activates_at: number; retires_at: number | null }, signingKid: string, kid: string, nowS: number): string {
  if (k.retires_at !== null && nowS >= k.retires_at) return 'retired';
  if (kid === signingKid) return 'active';
  if (nowS < k.activates_at) return 'next';
  return 'previous';
}

export function adminKeyRoutes(app: FastifyInstance, deps: AdminKeyDeps): void {
  app.get('/v1/admin/keys', async () => {
    deps.keys.refresh();
    const nowS = Math.floor(deps.now() / 1000);
    const signing = deps.keys.signing(nowS).kid;
    const published = new Set(deps.keys.published(nowS).map((k) => k.kid));
    return {
      now: nowS,
      keys: deps.keys.list().map((k) => ({
        kid: k.kid,
        state: stateOf(k, signing, k.kid, nowS),
        in_jwks: published.has(k.kid),
        group_public_key: k.group.group_public_key,
        threshold: k.group.threshold,
        signers: k.group.signers,
        // Each signer's verifying share (SHA-256 prefix): what a refresh, repair or reshare changed.
        verifying_shares: Object.fromEntries(Object.entries(k.group.verifying_shares).map(([id, v]) => [`signer-${indexOf(id)}`, fingerprint(v)])),
        ...(k.shares_changed ? { shares_changed: k.shares_changed } : {}),
        published_at: k.published_at,
        activates_at: k.activates_at,
        retires_at: k.retires_at,
        ...(k.ceremony ? { ceremony: k.ceremony } : {}),
      })),
      signers: await deps.signerRings(),
    };
  });

  app.post<{ Body: { activation_delay?: number; overlap?: number } | undefined }>('/v1/admin/keys/rotate', { schema: { body: rotateSchema } }, async (request, reply) => {
    const body = request.body ?? {};
    try {
      return await deps.rotate({
        ...(body.activation_delay !== undefined ? { activationDelayS: body.activation_delay } : {}),
        ...(body.overlap !== undefined ? { overlapS: body.overlap } : {}),
      });
    } catch (err) {
      if (err instanceof RotationError) return sendProblem(reply, err.code, err.message);
      throw err;
    }
  });

  const change = async (reply: FastifyReply, req: ShareChangeRequest) => {
    try {
      return await deps.changeShares(req);
    } catch (err) {
      if (err instanceof ShareChangeError) return sendProblem(reply, err.code, err.message);
      throw err;
    }
  };
  app.post('/v1/admin/keys/refresh', { schema: { body: shareSchemas.refresh } }, async (_request, reply) => change(reply, { kind: 'refresh' }));
  app.post<{ Body: { index: number; helpers?: number[] } }>('/v1/admin/keys/repair', { schema: { body: shareSchemas.repair } }, async (request, reply) =>
    change(reply, { kind: 'repair', index: request.body.index, ...(request.body.helpers ? { helpers: request.body.helpers } : {}) }),
  );
  app.post<{ Body: { threshold: number; signers: number; dealers?: number[] } }>('/v1/admin/keys/reshare', { schema: { body: shareSchemas.reshare } }, async (request, reply) =>
    change(reply, {
      kind: 'reshare',
      threshold: request.body.threshold,
      signers: request.body.signers,
      ...(request.body.dealers ? { dealers: request.body.dealers } : {}),
    }),
  );
}

const indexOf = (identifier: string) => Number(BigInt(`0x${Buffer.from(identifier, 'hex').reverse().toString('hex')}`));
const fingerprint = (point: string) => createHash('sha256').update(point).digest('hex').slice(0, 16);
