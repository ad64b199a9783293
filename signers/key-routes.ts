// A running signer's part in `ztmint keys rotate` (docs/keys.md): the DKG routes (signers/dkg-server.ts,
// the same authenticated, transcript-bound ceremony as `ztmint dkg`) with the new share sealed into
// the key ring beside the current one, and the key-ring routes the coordinator calls afterwards:
//
//   GET  /v1/keys/ring       the ring: kid, group key, quorum, this signer's verifying share, window
//   POST /v1/keys/schedule   {kid, activates_at, previous_retires_at}: the new key signs from then on,
//                            older keys retire then (the coordinator publishes the key first)
//   POST /v1/keys/cancel     {kid}: drop a key that is not active yet (an interrupted rotation)
//
// The ceremony runs while the signer keeps signing with its current key: a new key never signs
// before it is scheduled. Only the allowed client (the coordinator) reaches these routes.
import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../http/problem-response.js';
import type { KeyRingList, KeyScheduleRequest } from '../protocol/wire.js';
import type { DkgIdentity } from './dkg.js';
import { dkgRoutes } from './dkg-server.js';
import { KeyRingError, type KeyRing, type KeyRingEntry } from './key-ring.js';
import { requestSchema } from './openapi.js';
import { describeSealedShare, readSealedShare } from './sealed-share.js';

export interface KeyRouteDeps {
  ring: KeyRing;
  identity: DkgIdentity;
  now?: () => number;
}

const scheduleSchema = requestSchema('KeyScheduleRequest');
const cancelSchema = requestSchema('KeyCancelRequest');

function publicEntry(e: KeyRingEntry, identifier: string) {
  return {
    kid: e.kid,
    group_public_key: e.group.group_public_key,
    threshold: e.group.threshold,
    signers: e.group.signers,
    verifying_share: e.group.verifying_shares[identifier] ?? '',
    activates_at: e.activates_at,
    retires_at: e.retires_at,
  };
}

export function keyRingRoutes(app: FastifyInstance, deps: KeyRouteDeps): void {
  const { ring } = deps;
  const nowS = () => Math.floor((deps.now ?? Date.now)() / 1000);
  const identifier = () => ring.identifier;

  dkgRoutes(app, {
    identity: deps.identity,
    repeatable: true,
    async seal(share, group) {
      const { path } = await ring.addPending(share, group, nowS());
      app.log.warn({ kid: ring.list().at(-1)?.kid }, 'rotation: new key sealed into the key ring (not signing until scheduled)');
      return { path, provider: describeSealedShare(await readSealedShare(path)).provider };
    },
  });

  app.get('/v1/keys/ring', async (): Promise<KeyRingList> => {
    const id = identifier();
    return { current: ring.current(nowS()).kid, keys: ring.list().map((e) => publicEntry(e, id)) };
  });

  app.post<{ Body: KeyScheduleRequest }>('/v1/keys/schedule', { schema: { body: scheduleSchema } }, async (request, reply) => {
    const { kid, activates_at, previous_retires_at } = request.body;
    try {
      const e = await ring.schedule(kid, activates_at, previous_retires_at, nowS());
      app.log.warn({ kid, activates_at, previous_retires_at }, 'rotation: key scheduled');
      return publicEntry(e, identifier());
    } catch (err) {
      if (err instanceof KeyRingError) return sendProblem(reply, 'key_conflict', err.message);
      throw err;
    }
  });

  app.post<{ Body: { kid: string } }>('/v1/keys/cancel', { schema: { body: cancelSchema } }, async (request, reply) => {
    try {
      const cancelled = await ring.cancel(request.body.kid, nowS());
      if (cancelled) app.log.warn({ kid: request.body.kid }, 'rotation: key cancelled');
      return { kid: request.body.kid, cancelled };
    } catch (err) {
      if (err instanceof KeyRingError) return sendProblem(reply, 'key_conflict', err.message);
      throw err;
    }
  });
}
