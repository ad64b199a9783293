// A pooled connection held across several statements (a transaction), safely: while it is checked
// out, a connection the server drops (restart, failover) is reported as an 'error' event on the
// client, which would crash the process if nobody listened; and a client that failed is destroyed
// on release, never handed to the next caller half-way through a transaction.
import type { Pool, PoolClient } from 'pg';

export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure = err; // the statement in flight (or the next one) fails too; that error is the one thrown
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    failure ??= err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(failure ?? false);
  }
}
