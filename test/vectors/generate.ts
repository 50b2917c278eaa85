// Builds test/vectors/decisions.json from src/domain (the decisions the service runs), for
// jest and for the plugin's C unit checks. Regenerate: UPDATE_VECTORS=1 npx jest
// test/vectors/decisions.test.ts. The format is in test/vectors/README.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AclRule } from '../../src/domain/acl';
import {
  decideCheck,
  type CodedDecision,
  type PolicyRecord,
  type PolicyRequest,
} from '../../src/domain/check-decisions';

export interface VectorCase {
  name: string;
  record: PolicyRecord;
  common: AclRule[];
  request: PolicyRequest;
  expect: CodedDecision;
}
export interface VectorFile {
  version: 1;
  cases: VectorCase[];
}

export const VECTORS_PATH = join(__dirname, 'decisions.json');

type Access = AclRule['access'];
const R = (access: Access, pattern: string): AclRule => ({ pattern, access });
const U = 'dev1';
const C = 'cid1';

interface Dev {
  username?: string;
  known?: boolean;
  disabled?: boolean;
  superuser?: boolean;
  clientIds?: string[];
  acl?: AclRule[];
  damaged?: boolean;
  lockedMs?: number;
}

function record(d: Dev): PolicyRecord {
  const username = d.username ?? U;
  if (d.known === false) return { username, known: false };
  const r: PolicyRecord = {
    username,
    known: true,
    disabled: d.disabled ?? false,
    superuser: d.superuser ?? false,
    clientIds: d.clientIds ?? [],
    acl: d.acl ?? [],
  };
  if (d.damaged) r.damaged = true;
  if (d.lockedMs !== undefined) r.lockedMs = d.lockedMs;
  return r;
}

const show = (s: string): string => (s.length > 40 ? `${s.slice(0, 16)}…(${s.length} units)` : s);
const showRules = (rules: AclRule[]): string =>
  rules.length ? rules.map((r) => `${r.access} ${show(r.pattern)}`).join(', ') : 'no rules';
const ACC_NAME = { 1: 'deliver', 2: 'publish', 3: 'readwrite', 4: 'subscribe' } as const;

class Builder {
  readonly cases: VectorCase[] = [];
  private readonly names = new Set<string>();

  add(
    group: string,
    dev: Dev,
    req: Partial<PolicyRequest> & { kind: PolicyRequest['kind'] },
    common: AclRule[] = [],
    label?: string,
  ): void {
    const rec = record(dev);
    const request: PolicyRequest = {
      kind: req.kind,
      clientid: req.clientid ?? C,
      topic: req.topic ?? '',
      acc: req.acc ?? (req.kind === 'acl' ? 1 : 0),
    };
    const what =
      label ??
      (request.kind === 'acl'
        ? `${ACC_NAME[request.acc as 1 | 2 | 3 | 4]} "${show(request.topic)}" with ${showRules(rec.acl ?? [])}` +
          (common.length ? ` + common ${showRules(common)}` : '')
        : `${request.kind} clientid "${request.clientid}"`);
    let name = `${group}: ${what}`;
    for (let i = 2; this.names.has(name); i++) name = `${group}: ${what} #${i}`;
    this.names.add(name);
    this.cases.push({
      name,
      record: rec,
      common,
      request,
      expect: decideCheck(rec, common, request),
    });
  }

  acl(group: string, rules: AclRule[], acc: 1 | 2 | 3 | 4, topic: string, extra: Dev = {}) {
    this.add(group, { acl: rules, ...extra }, { kind: 'acl', acc, topic });
  }
}

function accessBits(b: Builder): void {
  for (const access of ['read', 'write', 'readwrite', 'deny'] as const)
    for (const acc of [1, 2, 3, 4] as const) b.acl('access bits', [R(access, 'a/b')], acc, 'a/b');
  for (const acc of [1, 2, 3, 4] as const) {
    b.acl('access bits', [R('read', 'a/#'), R('write', 'a/+')], acc, 'a/b');
    b.acl('access bits', [R('read', 'a/#'), R('write', 'b/#')], acc, 'a/b');
    b.acl('access bits', [], acc, 'a/b');
  }
}

const PATTERNS = [
  'a/b', 'a/+', 'a/#', '#', '+', '+/b', 'a/+/c', '+/+', 'a/b/#', 'a//b', '/a', 'a/', '/#', '+/#',
  '$SYS/#', '$SYS/+/x', '$share/g/a',
]; // prettier-ignore
const TOPICS = [
  'a/b', 'a', 'a/b/c', 'a/c', 'b', '/a', 'a/', 'a//b', '/', '//', 'a/b/c/d', 'A/b', 'x/b',
  '$SYS/x', '$SYS/a/x', '$SYS', '$share/g/a', '$x/b', 'é/ü', 'a b/c',
]; // prettier-ignore

function topicMatching(b: Builder): void {
  for (const p of PATTERNS)
    for (const t of TOPICS) {
      b.acl('deliver match', [R('read', p)], 1, t);
      b.acl('publish match', [R('write', p)], 2, t);
    }
  for (const t of ['a/+', 'a/#', '#', '+', 'a/b+', 'a/#/b', '']) {
    b.acl('publish a non-topic', [R('readwrite', '#')], 2, t);
    b.acl('deliver a non-topic', [R('readwrite', '#')], 1, t);
    b.acl('readwrite a non-topic', [R('readwrite', '#')], 3, t);
  }
}

const SUB_RULES = ['a/+', 'a/#', '#', 'a/b', '+/b', '$SYS/#', '+/#', 'a/+/c', 'a/b/#', '+/+'];
const FILTERS = [
  'a/b', 'a/+', 'a/#', '#', '+', '+/b', 'a/+/c', 'a/b/#', '$SYS/#', '$SYS/x', '+/+', 'a',
  'a/#/b', 'a#', 'a/b+', '', '+/#', '/#', 'a//+',
]; // prettier-ignore

function subscribe(b: Builder): void {
  for (const r of SUB_RULES) for (const f of FILTERS) b.acl('subscribe', [R('read', r)], 4, f);
  // Two rules that only together cover the filter: not allowed (one rule must cover it).
  b.acl('subscribe', [R('read', 'a/b'), R('read', 'a/c')], 4, 'a/+');
  b.acl('subscribe', [R('read', 'a/+'), R('read', 'a/+/#')], 4, 'a/#');
  b.acl('subscribe', [R('write', 'a/#')], 4, 'a/b');
  b.acl('subscribe', [R('readwrite', 'a/#')], 4, 'a/+');
}

function denyWins(b: Builder): void {
  const g = 'deny wins';
  const denies = ['a/secret', 'a/+', '+/secret', 'a/#', '#', 'a/s/x', 'b/#', '$SYS/#'];
  const topics: [1 | 2 | 3 | 4, string][] = [
    [1, 'a/secret'], [2, 'a/secret'], [3, 'a/secret'], [1, 'a/other'], [4, 'a/#'], [4, 'a/+'],
    [4, 'a/pub/#'], [4, 'a/+/x'], [4, 'a/secret'], [1, '$SYS/x'], [4, '$SYS/#'],
  ]; // prettier-ignore
  for (const d of denies)
    for (const [acc, t] of topics) {
      b.acl(g, [R('readwrite', 'a/#'), R('readwrite', '$SYS/#'), R('deny', d)], acc, t);
    }
  // Order does not matter: a deny before or after the grant, own or common.
  b.acl(g, [R('deny', 'a/secret'), R('readwrite', 'a/#')], 1, 'a/secret');
  b.add(g, { acl: [R('readwrite', 'a/#')] }, { kind: 'acl', acc: 2, topic: 'a/secret' }, [
    R('deny', 'a/secret'),
  ]);
  b.add(g, { acl: [R('deny', 'a/secret')] }, { kind: 'acl', acc: 1, topic: 'a/secret' }, [
    R('readwrite', '#'),
  ]);
  b.add(g, { acl: [R('deny', 'a/secret')] }, { kind: 'acl', acc: 1, topic: 'a/other' }, [
    R('readwrite', '#'),
  ]);
  // A stored deny that is not a filter (written before validation) denies everything.
  b.acl(g, [R('readwrite', '#'), R('deny', 'a#')], 1, 'x/y');
  // A stored grant that is not a filter grants nothing (a/#/b must not act as a/#).
  b.acl(g, [R('readwrite', 'a/#/b')], 1, 'a/x/b');
  b.acl(g, [R('readwrite', 'a/#/b')], 1, 'a/c');
}

const NAMES = ['dev1', 'a+b', 'a#', 'a/b', '+', '#', '', '%c', '%u', "$&$'", 'dév', 'a b', '$SYS'];

function substitution(b: Builder): void {
  for (const u of NAMES) {
    const g = `%u "${u}"`;
    const own = [R('readwrite', 'devices/%u/#')];
    for (const t of [`devices/${u}/x`, 'devices/x/y', 'devices/a/b/x', `devices/${u}`])
      for (const acc of [1, 2] as const) b.acl(g, own, acc, t, { username: u });
    b.acl(g, own, 4, `devices/${u}/#`, { username: u });
    b.acl(g, own, 4, 'devices/#', { username: u });
    b.acl(g, [R('read', '%u')], 1, u === '' ? 'x' : u, { username: u });
    const deny = [R('readwrite', 'devices/#'), R('deny', 'devices/%u/secret')];
    for (const t of [`devices/${u}/secret`, 'devices/other/secret', 'devices/a/b/secret'])
      b.acl(`${g} deny`, deny, 1, t, { username: u });
    b.acl(`${g} deny`, deny, 4, 'devices/#', { username: u });
    b.add(`${g} common`, { username: u }, { kind: 'acl', acc: 2, topic: `u/${u}/x` }, [
      R('write', 'u/%u/#'),
    ]);
  }
  const CIDS = ['cid1', 'a+b', 'a#', 'a/b', '+', '#', '', '%u', "$&$'", 'é'];
  for (const c of CIDS) {
    const g = `%c "${c}"`;
    const grant = [R('readwrite', 'clients/%c/#')];
    for (const t of [`clients/${c}/x`, 'clients/x/y', 'clients/a/b/x'])
      for (const acc of [1, 2, 4] as const)
        b.add(g, { acl: grant }, { kind: 'acl', acc, topic: t, clientid: c });
    b.add(g, { acl: grant }, { kind: 'acl', acc: 4, topic: 'clients/#', clientid: c });
    const deny = [R('readwrite', '#'), R('deny', 'clients/%c/secret')];
    for (const t of [`clients/${c}/secret`, 'clients/other/secret', 'x/y'])
      b.add(`${g} deny`, { acl: deny }, { kind: 'acl', acc: 1, topic: t, clientid: c });
    const both = [R('readwrite', 'd/%u/%c/#')];
    b.add(
      `${g} with %u`,
      { acl: both },
      { kind: 'acl', acc: 2, topic: `d/dev1/${c}/x`, clientid: c },
    );
  }
}

function accounts(b: Builder): void {
  const g = 'account';
  const rules = [R('readwrite', '#')];
  const states: [string, Dev][] = [
    ['enabled', { acl: rules }],
    ['unknown', { known: false }],
    ['disabled', { acl: rules, disabled: true }],
    ['damaged', { acl: rules, damaged: true, disabled: true }],
    ['damaged, not marked disabled', { acl: rules, damaged: true }],
    ['superuser', { acl: [], superuser: true }],
    ['disabled superuser', { acl: rules, superuser: true, disabled: true }],
    ['damaged superuser', { acl: rules, superuser: true, damaged: true }],
    ['locked', { acl: rules, lockedMs: 30_000 }],
    ['lock cleared', { acl: rules, lockedMs: 0 }],
    ['locked superuser', { superuser: true, lockedMs: 5000 }],
  ];
  for (const [label, dev] of states) {
    b.add(g, dev, { kind: 'user' }, [], `${label}: user`);
    b.add(g, dev, { kind: 'superuser' }, [], `${label}: superuser`);
    for (const acc of [1, 2, 3, 4] as const)
      b.add(g, dev, { kind: 'acl', acc, topic: 'a/b' }, [], `${label}: ${ACC_NAME[acc]} a/b`);
    b.add(g, dev, { kind: 'acl', acc: 1, topic: '$SYS/x' }, [], `${label}: deliver $SYS/x`);
    b.add(g, dev, { kind: 'acl', acc: 2, topic: 'a/#' }, [], `${label}: publish a/#`);
    b.add(g, dev, { kind: 'acl', acc: 1, topic: 'a/b' }, [R('read', '#')], `${label}: common`);
  }
}

function clientIds(b: Builder): void {
  const bound: [string, string[]][] = [
    ['dev1', ['%u-a', 'b']],
    ['dev1', []],
    ["$&$'", ['%u-a']],
    ['a/b', ['%u']],
    ['dev1', ['%u%u', 'x%uy']],
    ['dev1', ['%c']],
  ];
  for (const [u, ids] of bound)
    for (const c of ['dev1-a', 'b', 'c', '', '%u-a', `${u}-a`, `${u}${u}`, `x${u}y`, u, '%c'])
      b.add(
        `client-id binding ${JSON.stringify(ids)}`,
        { username: u, clientIds: ids },
        {
          kind: 'user',
          clientid: c,
        },
      );
  b.add('client-id binding', { clientIds: ['x'], disabled: true }, { kind: 'user', clientid: 'x' });
  b.add('client-id binding', { clientIds: ['x'], lockedMs: 1 }, { kind: 'user', clientid: 'y' });
  // The binding is a CONNECT question only: an ACL check does not ask it.
  b.add(
    'client-id binding',
    { clientIds: ['x'], acl: [R('read', '#')] },
    {
      kind: 'acl',
      acc: 1,
      topic: 'a',
      clientid: 'y',
    },
  );
}

function commonRules(b: Builder): void {
  const g = 'common rules';
  const common = [R('read', 'public/#'), R('readwrite', 'devices/%u/#'), R('deny', 'public/admin')];
  const reqs: [1 | 2 | 3 | 4, string][] = [
    [1, 'public/x'], [2, 'public/x'], [1, 'public/admin'], [2, 'devices/dev1/t'],
    [4, 'public/#'], [4, 'public/+'], [4, 'devices/dev1/#'], [1, 'devices/dev2/t'],
  ]; // prettier-ignore
  for (const own of [[], [R('readwrite', 'public/#')], [R('deny', 'devices/dev1/t')]])
    for (const [acc, topic] of reqs) b.add(g, { acl: own }, { kind: 'acl', acc, topic }, common);
}

function emptyAndLong(b: Builder): void {
  const g = 'levels';
  for (const [p, t] of [
    ['+', ''], ['+/+', '/'], ['+', '/'], ['/+', '/'], ['#', '/'], ['/#', '/'], ['+/#', '/x'],
    ['a/+/b', 'a//b'], ['a/#', 'a/'], ['a/+', 'a/'], ['+//+', '//'], ['//', '//'],
  ] as const) {
    b.acl(g, [R('readwrite', p)], 2, t);
    b.acl(g, [R('readwrite', p)], 4, t);
  } // prettier-ignore
  const deep = Array.from({ length: 201 }, (_, i) => `l${i}`).join('/');
  b.acl('long', [R('read', '#')], 1, deep);
  b.acl('long', [R('read', 'l0/#')], 4, `${deep}/#`);
  b.acl('long', [R('read', `${deep}/+`)], 1, `${deep}/x`);
  // MQTT's limit is 65,535 UTF-8 bytes (not UTF-16 units).
  b.acl('long', [R('write', '#')], 2, 'a'.repeat(65535), {});
  b.acl('long', [R('write', '#')], 2, 'a'.repeat(65536));
  b.acl('long', [R('write', '#')], 2, '€'.repeat(21845));
  b.acl('long', [R('write', '#')], 2, '€'.repeat(21846));
  b.acl('long', [R('read', '#')], 4, `${'é'.repeat(32766)}/#`);
  b.acl('long', [R('read', '#')], 4, `${'é'.repeat(32767)}/#`);
  b.acl('long', [R('write', '#')], 2, '😀'.repeat(16383));
  b.acl('long', [R('write', '#')], 2, `${'😀'.repeat(16383)}abcd`);
}

export function buildVectors(): VectorFile {
  const b = new Builder();
  for (const part of [accessBits, topicMatching, subscribe, denyWins, substitution, accounts])
    part(b);
  for (const part of [clientIds, commonRules, emptyAndLong]) part(b);
  return { version: 1, cases: b.cases };
}

/** One case per line: diffs stay readable and the C side can stream it. */
export function renderVectors(v: VectorFile): string {
  const lines = v.cases.map((c) => JSON.stringify(c));
  return `{"version":${v.version},"cases":[\n${lines.join(',\n')}\n]}\n`;
}

export function writeVectors(): VectorFile {
  const v = buildVectors();
  writeFileSync(VECTORS_PATH, renderVectors(v));
  return v;
}
