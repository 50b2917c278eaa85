// What the bad-input scenario sends and what it expects back: fast-check arbitraries for
// broker checks and management calls (odd names, wildcards, control characters, wrong
// types), and the decision a check must come to (the oracle).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { isValidFilter, isValidTopicName } from '../../src/domain/topic';

export const GOOD = `good-${randomBytes(3).toString('hex')}`;
export const GOOD_PW = `good-password-${randomBytes(6).toString('hex')}`;
export const BOSS = `boss-${randomBytes(3).toString('hex')}`;
export const BOSS_PW = `boss-password-${randomBytes(6).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Arbitraries

const SPECIAL = [
  ':', '\n', '\r', '\u0000', '+', '#', '/', '$', '%u', '%c', ' ', '\t', '\u2028', '\u200b',
  '\u00e9', 'e\u0301', '\ud83d\ude00', '\ud800', '\\', '"', "'", '{', '}', '[', ']', '&', '=',
  '%', '%00', '%zz', '..', 'a', 'Z', '0', '-', '_', '.', '\u202e', '\ufeff', '\u0085', '<b>',
]; // prettier-ignore

const weird = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '', ' ', '#', '+', '/', 'a/#', '#/a', 'a/+/b', 'a+/b', '$SYS/#', 'devices/%u/#',
      'x'.repeat(129), 'x'.repeat(128), 'null', 'true', '0', '-1', '1e999',
    ), // prettier-ignore
  },
);

const junk = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

/** Mostly the given kind of value, sometimes (1 in `odds`) a value of another type. */
const field = <T>(arb: fc.Arbitrary<T>, odds = 7) =>
  fc.oneof(
    { weight: odds - 1, arbitrary: arb as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: junk },
  );

const level = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('devices', GOOD, BOSS, '+', '#', '', 'x', '$SYS') },
  { weight: 1, arbitrary: weird },
);
const topic = fc.oneof(
  weird,
  fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/')),
  fc
    .tuple(fc.constantFrom(GOOD, BOSS), fc.array(level, { maxLength: 3 }))
    .map(([u, rest]) => ['devices', u, ...rest].join('/')),
);
const acc = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(1, 2, 3, 4, '1', '2', '3', '4', '04') },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom(0, 5, -1, 1.5, '2 ', 'write', '', true, null),
      fc.integer(),
      weird,
    ),
  },
);

const checkFields = fc.record(
  {
    username: field(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(GOOD, BOSS) }, weird), 30),
    password: field(fc.oneof(fc.constantFrom(GOOD_PW, BOSS_PW), weird), 30),
    clientid: field(weird, 30),
    topic: field(topic, 30),
    acc,
  },
  { requiredKeys: [] },
);

export const checkRequest = fc.record({
  kind: fc.constantFrom('user', 'superuser', 'acl'),
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('POST', 'GET', 'PUT') },
    { weight: 1, arbitrary: fc.constantFrom('DELETE', 'PATCH', 'OPTIONS') },
  ),
  mode: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(null, null, 'status', 'text', 'json') },
    { weight: 1, arbitrary: fc.constantFrom('xml', '', 'JSON') },
  ),
  encoding: fc.constantFrom('json', 'json', 'json', 'form', 'form', 'form', 'raw'),
  contentType: fc.constantFrom(
    undefined,
    'application/json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'application/json; charset=utf-16',
    'multipart/form-data; boundary=x',
    '',
  ),
  fields: checkFields,
  extra: fc.dictionary(weird, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  raw: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), weird),
});

const rule = fc.record(
  {
    pattern: field(fc.oneof(topic, weird)),
    access: field(fc.oneof(fc.constantFrom('read', 'write', 'readwrite', 'deny'), weird)),
  },
  { requiredKeys: [] },
);
const rules = field(fc.array(rule, { maxLength: 3 }));
const deviceId = fc.oneof(weird, fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/));
const deviceBody = fc.record(
  {
    id: field(deviceId),
    password: field(fc.oneof(weird, fc.string({ minLength: 8, maxLength: 300 }))),
    superuser: field(fc.boolean()),
    disabled: field(fc.boolean()),
    acl: rules,
    clientIds: field(fc.array(weird, { maxLength: 3 })),
    metadata: field(
      fc.dictionary(weird, fc.oneof(weird, fc.integer(), fc.boolean(), fc.constant(null), junk), {
        maxKeys: 4,
      }),
    ),
  },
  { requiredKeys: [] },
);

// Bodies that mostly pass validation, with odd but legal names and rules, so that what gets
// through to Redis and the export is itself hostile.
const oddChar = fc.constantFrom(
  'a', 'b', 'Z', '0', '-', '_', '.', '\u00e9', 'e\u0301', '\ud83d\ude00', '%', 'u', 'c', '$',
  '@', '!', '~', '\u00df', '\u4e2d', '\u01c5', '=', '&', '"', "'", '\\', '{', '*',
); // prettier-ignore
const oddId = fc.string({ unit: oddChar, minLength: 1, maxLength: 20 });
const oddLevel = fc.oneof(
  fc.constantFrom(
    '+',
    '%u',
    '%c',
    'devices',
    'a b',
    ' x',
    'x ',
    '',
    '$SYS',
    '\u00e9',
    '\ud83d\ude00',
  ),
  fc.string({
    unit: fc.constantFrom(
      'a',
      'b',
      ' ',
      '\u00e9',
      '$',
      '%',
      'u',
      'c',
      '\t',
      '\n',
      '\r',
      '\u2028',
      '\u0085',
    ),
    maxLength: 5,
  }),
);
const oddPattern = fc
  .tuple(fc.array(oddLevel, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => [...l, ...(hash ? ['#'] : [])].join('/'));
const oddRules = fc.array(
  fc.record({
    pattern: oddPattern,
    access: fc.constantFrom('read', 'write', 'readwrite', 'deny'),
  }),
  { maxLength: 4 },
);
const oddDevice = fc.record(
  {
    id: oddId,
    password: fc.string({ unit: 'binary', minLength: 8, maxLength: 40 }),
    superuser: fc.boolean(),
    disabled: fc.boolean(),
    acl: oddRules,
    clientIds: fc.constantFrom([], [], [], ['%u']),
    metadata: fc.dictionary(oddId, oddId, { maxKeys: 2 }),
  },
  { requiredKeys: ['id'] },
);

const ROUTES = [
  'POST /devices',
  'PATCH /devices/:id',
  'POST /devices/:id/password',
  'PUT /devices/:id/acl',
  'DELETE /devices/:id',
  'GET /devices/:id',
  'GET /devices',
  'PUT /acl/common',
  'GET /lockouts/:kind/:name',
  'DELETE /lockouts/:kind/:name',
  'GET /audit',
  'GET /export',
  'POST /export',
  'OPTIONS /devices',
  'POST /nowhere/:id',
] as const;

export const apiRequest = fc.record({
  route: fc.oneof(
    { weight: 3, arbitrary: fc.constant('POST /devices' as const) },
    { weight: 1, arbitrary: fc.constant('PUT /devices/:id/acl' as const) },
    { weight: 4, arbitrary: fc.constantFrom(...ROUTES) },
  ),
  id: fc.oneof(deviceId, oddId),
  existing: fc.nat(),
  useExisting: fc.boolean(),
  rawSegment: fc.option(
    fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '%2e%2e', '%00', 'a%2Fb', '%C0%AF', '%FF'),
    { freq: 5 },
  ),
  body: fc.oneof(
    { weight: 3, arbitrary: deviceBody.map((b) => JSON.stringify(b)) },
    { weight: 4, arbitrary: oddDevice.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.record({ acl: rules }).map((b) => JSON.stringify(b)) },
    { weight: 2, arbitrary: fc.record({ acl: oddRules }).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.oneof(weird, fc.string({ unit: 'binary', maxLength: 100 })) },
  ),
  contentType: fc.constantFrom(
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-16',
    'application/x-www-form-urlencoded',
    'text/plain',
    undefined,
  ),
  query: fc.record({ limit: fc.option(weird), cursor: fc.option(weird), before: fc.option(weird) }),
  kind: fc.oneof(fc.constantFrom('username', 'clientid'), weird),
});

// ---------------------------------------------------------------------------------------------
// What the service should answer

const STRING_FIELDS = ['username', 'password', 'clientid', 'topic'] as const;
const REQUIRED = {
  user: ['username', 'password'],
  superuser: ['username'],
  acl: ['username', 'topic', 'acc'],
};

/** The decision for fields as the server reads them: null when the request is malformed. */
export function expectedCheck(kind: string, sent: Record<string, unknown>): boolean | null {
  const f: Record<string, string | number> = {
    username: '',
    password: '',
    clientid: '',
    topic: '',
    acc: 0,
  };
  // go-auth's body is flat: a nested object or array anywhere is refused before parsing.
  if (Object.values(sent).some((v) => typeof v === 'object' && v !== null)) return null;
  for (const k of STRING_FIELDS) {
    const v = sent[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return null;
    f[k] = v;
  }
  const a = sent.acc;
  if (a !== undefined && a !== null) {
    const n =
      typeof a === 'number' ? a : typeof a === 'string' && /^\d{1,2}$/.test(a) ? Number(a) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 4) return null;
    f.acc = n;
  }
  for (const k of REQUIRED[kind as keyof typeof REQUIRED])
    if (k === 'acc' ? f.acc === 0 : f[k] === '') return null;
  const user = f.username as string;
  if (kind === 'user')
    return (user === GOOD && f.password === GOOD_PW) || (user === BOSS && f.password === BOSS_PW);
  if (kind === 'superuser') return user === BOSS;
  // Only the default common rule applies: devices/%u/# readwrite.
  if (user !== GOOD && user !== BOSS) return false;
  const t = f.topic as string;
  const l = t.split('/');
  const under = l[0] === 'devices' && l[1] === user;
  return f.acc === 4 ? isValidFilter(t) && under : isValidTopicName(t) && under;
}

export const encodePath = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as its raw UTF-8 bytes
  }
};
