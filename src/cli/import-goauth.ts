// `mqtt-authd import-goauth`: checks the arguments and runs the Redis or the files importer.
import Redis from 'ioredis';
import type { AppContext } from '../context';
import { SALT_ENCODINGS, type SaltEncoding } from '../domain/legacy-hash';
import { badRequest } from '../errors';
import type { GoAuthImportOptions, GoAuthReport } from './import-goauth-shared';
import { importGoAuthFiles } from './import-goauth-files';
import { importGoAuthRedis } from './import-goauth-redis';

export interface ImportGoAuthArgs {
  redis?: string;
  passwords?: string;
  acl?: string;
  saltEncoding?: string;
  replaceCommon?: boolean;
  dryRun?: boolean;
  disableSuperuser?: boolean;
}

export async function importGoAuth(
  ctx: Pick<AppContext, 'devices' | 'config'>,
  args: ImportGoAuthArgs,
  io: Pick<GoAuthImportOptions, 'progress' | 'print'> = {},
): Promise<GoAuthReport> {
  if (Boolean(args.redis) === Boolean(args.passwords)) {
    throw badRequest('give exactly one of --redis URL or --passwords FILE');
  }
  if (args.acl && !args.passwords) throw badRequest('--acl goes with --passwords');
  const saltEncoding = (args.saltEncoding ?? 'base64') as SaltEncoding;
  if (!SALT_ENCODINGS.includes(saltEncoding)) {
    throw badRequest(`--salt-encoding must be ${SALT_ENCODINGS.join(' or ')}`);
  }
  if (args.redis && !/^rediss?:\/\//.test(args.redis)) {
    throw badRequest('--redis must be a redis:// or rediss:// URL');
  }
  const opts: GoAuthImportOptions = {
    saltEncoding,
    dryRun: Boolean(args.dryRun),
    replaceCommon: Boolean(args.replaceCommon),
    disableSuperuser: Boolean(args.disableSuperuser),
    maxIterations: ctx.config.PASSWD_MAX_ITERATIONS,
    ...io,
  };
  if (args.passwords) return importGoAuthFiles(ctx.devices, args.passwords, args.acl, opts);
  const source = new Redis(args.redis as string, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 30000,
    retryStrategy: () => null,
  });
  source.on('error', () => undefined); // surfaced by the failing command
  try {
    await source.connect().catch(() => {
      throw new Error(
        `cannot reach go-auth's Redis at ${(args.redis as string).replace(/\/\/[^@/]*@/, '//***@')}`,
      );
    });
    return await importGoAuthRedis(ctx.devices, source, opts);
  } finally {
    source.disconnect();
  }
}
