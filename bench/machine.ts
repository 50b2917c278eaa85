// The machine a run measured, for the table's caption.
import os from 'node:os';
import type Redis from 'ioredis';
import { redisVersion } from './redis-prefix';

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  redis: string;
}

export async function describeMachine(redis: Redis): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpu: (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cores: cpus.length,
    memGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: await redisVersion(redis),
  };
}
