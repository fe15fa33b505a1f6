/** `GET /health`: 200 when MongoDB answers a ping in time, 503 otherwise. */
import type { MongoClient } from 'mongodb';

export type HealthCheck = () => Promise<boolean>;

export function mongoPingCheck(client: MongoClient, timeoutMs = 2_000): HealthCheck {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const ping = client.db('admin').command({ ping: 1 });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
      });
      const reply = await Promise.race([ping, timeout]);
      return Number(reply?.ok) === 1;
    } catch {
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}
