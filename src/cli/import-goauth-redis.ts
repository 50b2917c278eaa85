// `mqtt-authd import-goauth --redis URL`: reads mosquitto-go-auth's Redis backend as it lays
// it out (backends/redis.go): `<user>` → hash, `<user>:su` = "true" → superuser,
// `<user>:{racls,wacls,rwacls,sacls}` and `common:{…}` sets → rules. SCAN, never KEYS; one
// batch of keys at a time, so memory stays flat however many devices there are.
import type Redis from 'ioredis';
import type { DeviceService } from '../devices/device-service';
import {
  MAX_DEVICE_RULES,
  redisCommonRules,
  redisUserRules,
  SET_NAMES,
  TooManyRules,
  type GoAuthSets,
} from '../domain/goauth-acl';
import { usernameProblem } from '../domain/names';
import { bytesShown, quoted } from '../domain/printable';
import {
  applyCommon,
  DeviceWriter,
  importableHash,
  newReport,
  type GoAuthImportOptions,
  type GoAuthReport,
} from './import-goauth-shared';

const SCAN_COUNT = 500;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Mapping work between two yields to the event loop (a signal must not wait for a batch). */
const YIELD_EVERY = 64;
const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
const SUFFIX = /:(su|racls|wacls|rwacls|sacls)$/;

type Reply = [Error | null, unknown];

function setsFrom(replies: Reply[], keyOf: (set: string) => string, report: GoAuthReport) {
  const sets = { racls: [], wacls: [], rwacls: [], sacls: [] } as GoAuthSets;
  SET_NAMES.forEach((name, i) => {
    const [err, members] = replies[i] as Reply;
    if (err) report.problems.push({ where: keyOf(name), message: err.message });
    else sets[name] = [...(members as string[])].sort();
  });
  return sets;
}

async function readCommon(source: Redis, report: GoAuthReport): Promise<GoAuthSets> {
  const p = source.pipeline();
  for (const name of SET_NAMES) p.smembers(`common:${name}`);
  return setsFrom(((await p.exec()) ?? []) as Reply[], (n) => `common:${n}`, report);
}

interface Tally {
  volatile: number;
  foreign: number;
  orphans: number;
  /** The first few orphan keys, for the note. */
  examples: string[];
  foreignExamples: string[];
}

export async function importGoAuthRedis(
  devices: DeviceService,
  source: Redis,
  opts: GoAuthImportOptions,
): Promise<GoAuthReport> {
  const report = newReport();
  const common = await readCommon(source, report);
  try {
    const mapped = redisCommonRules(common);
    report.problems.push(...mapped.problems);
    await applyCommon(devices, mapped.rules, opts, report);
  } catch (err) {
    if (!(err instanceof TooManyRules)) throw err;
    report.problems.push({
      where: 'common:*',
      message: `${err.message}: common rules not imported`,
    });
  }

  const writer = new DeviceWriter(devices, opts, report);
  const tally: Tally = { volatile: 0, foreign: 0, orphans: 0, examples: [], foreignExamples: [] };
  opts.progress?.start(await source.dbsize());
  let scanned = 0;
  let cursor = '0';
  do {
    const [next, raw] = await source.scanBuffer(cursor, 'COUNT', SCAN_COUNT);
    cursor = next.toString();
    const keys: string[] = [];
    for (const k of raw) {
      try {
        keys.push(UTF8.decode(k));
      } catch {
        // go-auth could read such a key, but no name we store or export can say it.
        report.problems.push({ where: bytesShown(k), message: 'key name is not UTF-8: skipped' });
      }
    }
    await importBatch(source, keys, common, writer, report, tally, opts);
    scanned += raw.length;
    opts.progress?.update(scanned);
  } while (cursor !== '0');
  await writer.drain();
  opts.progress?.stop();

  if (tally.orphans) {
    report.notes.push(
      `${tally.orphans} key(s) of users with no password key were not imported (go-auth could not log them in either): ${tally.examples.map((k) => quoted(k)).join(', ')}`,
    );
  }
  if (tally.volatile) {
    report.notes.push(
      `${tally.volatile} string key(s) with a TTL were skipped (go-auth cache entries or other volatile keys, never user keys)`,
    );
  }
  if (tally.foreign) {
    report.notes.push(
      `${tally.foreign} key(s) of other types (not a user's password string) were skipped: ${tally.foreignExamples.map((k) => quoted(k)).join(', ')}`,
    );
  }
  return report;
}

async function importBatch(
  source: Redis,
  keys: string[],
  common: GoAuthSets,
  writer: DeviceWriter,
  report: GoAuthReport,
  tally: Tally,
  opts: GoAuthImportOptions,
): Promise<void> {
  const users = keys.filter((k) => !SUFFIX.test(k));
  // Sets and flags of a user with no password key: go-auth never reads them.
  const owners = keys.filter((k) => SUFFIX.test(k) && !k.startsWith('common:'));
  const p = source.pipeline();
  for (const k of owners) p.exists(k.replace(SUFFIX, ''));
  for (const u of users) {
    p.type(u).pttl(u).get(u).get(`${u}:su`);
    for (const name of SET_NAMES) p.smembers(`${u}:${name}`);
  }
  const replies = ((await p.exec()) ?? []) as Reply[];
  owners.forEach((k, i) => {
    if ((replies[i] as Reply)[1] !== 0) return;
    if (tally.orphans++ < 10) tally.examples.push(k);
  });
  const per = 4 + SET_NAMES.length;
  for (let i = 0; i < users.length; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldNow();
    const u = users[i] as string;
    const r = replies.slice(owners.length + i * per, owners.length + (i + 1) * per);
    const [type, ttl, value, su] = r.map((x) => x[1]) as [
      string,
      number,
      string | null,
      string | null,
    ];
    if (type !== 'string') {
      if (type !== 'none' && tally.foreign++ < 10) tally.foreignExamples.push(u);
      continue;
    }
    if (ttl >= 0) {
      tally.volatile++;
      continue;
    }
    const problem = usernameProblem(u);
    if (problem) {
      report.problems.push({ where: u, message: `user name ${problem}: skipped` });
      continue;
    }
    const checked = importableHash(value ?? '', opts);
    if ('problem' in checked) {
      report.problems.push({ where: u, message: `${checked.problem}: skipped` });
      continue;
    }
    const suError = (r[3] as Reply)[0];
    if (suError) {
      report.problems.push({
        where: `${u}:su`,
        message: `not a string (${suError.message.split(' ')[0]}): superuser not granted, as in go-auth`,
      });
    }
    const own = setsFrom(r.slice(4), (n) => `${u}:${n}`, report);
    let mapped: ReturnType<typeof redisUserRules>;
    try {
      mapped = redisUserRules(u, own, common);
    } catch (err) {
      if (!(err instanceof TooManyRules)) throw err;
      report.problems.push({ where: u, message: `${err.message}: skipped` });
      continue;
    }
    report.problems.push(...mapped.problems);
    if (mapped.rules.length > MAX_DEVICE_RULES) {
      report.problems.push({
        where: u,
        message: `${mapped.rules.length} rules after mapping (at most ${MAX_DEVICE_RULES}): skipped`,
      });
      continue;
    }
    await writer.write(u, u, {
      hash: checked.hash,
      acl: mapped.rules,
      superuser: !opts.disableSuperuser && su === 'true',
    });
  }
}
