// Admin routes of key rotation (docs/keys.md), on the admin listener only (admin-server.ts):
//
//   GET  /v1/admin/keys          the key set with its schedule, and each signer's key ring
//   POST /v1/admin/keys/rotate   {activation_delay?, overlap?} (seconds; defaults from the options):
//                                a new DKG across the running signers, then publish → activate → retire
import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../../http/problem-response.js';
import type { KeySet } from '../key-set.js';
import { RotationError, type RotationResult } from '../key-rotation.js';

export interface AdminKeyDeps {
  keys: KeySet;
  now: () => number;
  rotate(params: { activationDelayS?: number; overlapS?: number }): Promise<RotationResult>;
  signerRings(): Promise<unknown[]>;
}

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
}
