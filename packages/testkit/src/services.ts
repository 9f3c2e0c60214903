import { randomBytes } from 'node:crypto';

import Redis from 'ioredis';
import { Client } from 'pg';

/** The services the suite runs against; CI and the README's test command start them. */
export const TEST_DATABASE_URL = process.env.STOWAGE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.STOWAGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type TestMode = 'postgres' | 'embedded';

/** Modes a suite that must pass in both runs in: `STOWAGE_TEST_MODES=postgres,embedded` (default). */
export function testModes(): TestMode[] {
  const modes = (process.env.STOWAGE_TEST_MODES ?? 'postgres,embedded').split(',').map((m) => m.trim()) as TestMode[];
  return modes.filter((m) => m === 'postgres' || m === 'embedded');
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh database on the test server, dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('stowage_t');
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Removes every Redis key under a prefix (a test's queues). */
export async function clearRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
