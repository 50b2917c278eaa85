// The committed decision vectors agree with src/domain, with the check service that runs them
// and with the explainer (/api/v1/decide). UPDATE_VECTORS=1 regenerates the file first.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { Acc } from '../../src/domain/acl';
import { decideCheck, REASON_CODES } from '../../src/domain/check-decisions';
import { HashWork } from '../../src/domain/hash-work';
import { hashPassword } from '../../src/domain/passwd-hash';
import { CheckService, type Throttle } from '../../src/checks/check-service';
import { explainDecision } from '../../src/checks/explain-decision';
import { cachedUser, UserCache } from '../../src/checks/user-cache';
import type { ChangeFeed } from '../../src/store/change-feed';
import type { CredentialStore } from '../../src/store/credential-store';
import type { DeviceRecord } from '../../src/store/records';
import {
  buildVectors,
  renderVectors,
  VECTORS_PATH,
  writeVectors,
  type VectorCase,
  type VectorFile,
} from './generate';

if (process.env.UPDATE_VECTORS === '1') writeVectors();
const text = readFileSync(VECTORS_PATH, 'utf8');
const committed = JSON.parse(text) as VectorFile;

const PASSWORD = 'the-right-password';

function deviceRecord(c: VectorCase, hash: string): DeviceRecord | null {
  const r = c.record;
  if (!r.known) return null;
  return {
    username: r.username,
    hash,
    superuser: r.superuser ?? false,
    disabled: r.disabled ?? false,
    acl: r.acl ?? [],
    clientIds: r.clientIds ?? [],
    metadata: {},
    createdAt: '',
    updatedAt: '',
    ...(r.damaged ? { damaged: [{ field: 'acl', reason: 'a vector' }] } : {}),
  };
}

describe('test/vectors/decisions.json', () => {
  it('is what generate.ts builds now (regenerate: UPDATE_VECTORS=1)', () => {
    expect(text).toBe(renderVectors(buildVectors()));
  });

  it('has version 1, unique names, known reason codes, both answers in every kind', () => {
    expect(committed.version).toBe(1);
    const names = committed.cases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(committed.cases.length).toBeGreaterThanOrEqual(600);
    for (const c of committed.cases) expect(REASON_CODES).toContain(c.expect.reason);
    const seen = new Set(committed.cases.map((c) => `${c.request.kind}:${c.expect.allow}`));
    expect([...seen].sort()).toEqual([
      'acl:false',
      'acl:true',
      'superuser:false',
      'superuser:true',
      'user:false',
      'user:true',
    ]);
    // Every reason code is exercised by some case.
    expect(new Set(committed.cases.map((c) => c.expect.reason))).toEqual(
      new Set(REASON_CODES.filter((r) => r !== 'bad-acc')),
    );
  });

  it('every case is decided so by src/domain', () => {
    const wrong = committed.cases.filter((c) => {
      const d = decideCheck(c.record, c.common, c.request);
      return d.allow !== c.expect.allow || d.reason !== c.expect.reason;
    });
    expect(wrong.map((c) => c.name)).toEqual([]);
  });

  it('every case is decided so by the check service and the explainer (/api/v1/decide)', async () => {
    const hash = await hashPassword(PASSWORD, { iterations: 10, saltBytes: 12 });
    const feed = Object.assign(new EventEmitter(), { isUp: false }) as unknown as ChangeFeed;
    // One service for every case; the case being decided is what its store and throttle say.
    let c = committed.cases[0] as VectorCase;
    let rec: DeviceRecord | null = null;
    let locked = false;
    const throttle: Throttle = {
      inspect: async () => ({ locked: locked ? 'locked out' : null, counted: false }),
      failed: async () => undefined,
      succeeded: async () => undefined,
    };
    const store = { getUserWithCommon: async () => ({ user: rec, common: c.common }) };
    const svc = new CheckService({
      cache: new UserCache(store as unknown as CredentialStore, { ttlMs: 0, maxUsers: 0 }, feed),
      load: async (u) => cachedUser(u, rec, c.common, Date.now(), 0),
      hashing: new HashWork({ maxIterations: 10_000, padTo: 1 }),
      timeoutMs: 5000,
      logger: pino({ level: 'silent' }),
      throttle,
    });
    const wrong: string[] = [];
    for (c of committed.cases) {
      rec = deviceRecord(c, hash);
      locked = (c.record.lockedMs ?? 0) > 0;
      const { kind, clientid, topic, acc } = c.request;
      const f = { username: c.record.username, password: PASSWORD, clientid, topic, acc };
      const service =
        kind === 'user'
          ? (await svc.user(f)).allow
          : kind === 'superuser'
            ? (await svc.superuser(f)).allow
            : (await svc.superuser(f)).allow || (await svc.acl(f)).allow;
      const lock = { locked, failures: 0, retryAfterS: locked ? 30 : 0 };
      const unlocked = { locked: false, failures: 0, retryAfterS: 0 };
      const e = await explainDecision(
        store as unknown as CredentialStore,
        { state: async (k) => (k === 'username' ? lock : unlocked) },
        {
          username: f.username,
          clientid,
          topic: kind === 'acl' ? topic : 'x',
          acc: (acc || 1) as Acc,
        },
      );
      const explained = kind === 'user' ? e.connect.allow : kind === 'acl' ? e.allow : null;
      if (service !== c.expect.allow) wrong.push(`service: ${c.name}`);
      if (explained !== null && explained !== c.expect.allow) wrong.push(`explainer: ${c.name}`);
    }
    expect(wrong).toEqual([]);
  });
});
