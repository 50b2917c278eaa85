// The management API against callers without the right token, on every route the
// service publishes in its OpenAPI document. Claims: refused with 401, and the refusal for an
// existing device is byte for byte the refusal for a missing one (status, body, headers but
// Date); helmet's security headers are on every answer outside the broker-check fast path.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Faults, report, SEED, sized, stage, type Stage } from '../support/hostile';
import { bearer, JSON_HEADERS, send, type Answer } from '../support/http';

const RUNS = sized(400, 3000);
jest.setTimeout(sized(60_000, 600_000));

/** helmet 8 defaults: every answer of Express (API, health, metrics, 404s, errors). */
const SECURITY_HEADERS: Record<string, string | RegExp> = {
  'content-security-policy': /default-src 'self'/,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': /max-age=\d+/,
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

function missingSecurityHeaders(a: Answer): string[] {
  const out: string[] = [];
  for (const [name, want] of Object.entries(SECURITY_HEADERS)) {
    const got = a.headers[name];
    const ok =
      typeof got === 'string' && (typeof want === 'string' ? got === want : want.test(got));
    if (!ok) out.push(`${name}: ${JSON.stringify(got)}`);
  }
  if (a.headers['x-powered-by'] !== undefined) out.push('x-powered-by is set');
  return out;
}

/** What must not differ between two refusals (Date, and the connection, may). */
const fingerprint = (a: Answer) =>
  JSON.stringify({
    status: a.status,
    body: a.body,
    headers: Object.entries(a.headers)
      .filter(([k]) => k !== 'date' && k !== 'connection' && k !== 'keep-alive')
      .sort(([x], [y]) => x.localeCompare(y)),
  });

let st: Stage;
let port: number;
beforeAll(async () => {
  st = await stage('mgmt-auth');
  port = (await st.start()).port;
});
afterAll(() => st.close());

test('wrong or missing credentials: 401 on every route, identical for existing and missing devices; helmet headers everywhere', async () => {
  const v = new Faults();
  const token = st.token;
  const seed = SEED;
  const figures: Record<string, number | string> = { seed };
  const existing = `exists-${randomBytes(3).toString('hex')}`;
  const missing = `missing-${randomBytes(3).toString('hex')}`;
  const made = await send(port, '/api/v1/devices', {
    body: JSON.stringify({ id: existing }),
    headers: bearer(token),
  });
  if (made.status !== 201) throw new Error(`seeding: ${made.status} ${made.body}`);
  await send(port, '/mqtt/user', {
    body: JSON.stringify({ username: existing, password: 'wrong', clientid: existing }),
    headers: JSON_HEADERS,
  }); // a failed-login counter exists for `existing`, none for `missing`

  // Every route the service documents, with its parameters filled in.
  const doc = JSON.parse((await send(port, '/api/v1/openapi.json', { method: 'GET' })).body) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes: { method: string; path: string }[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const method of Object.keys(methods)) routes.push({ method: method.toUpperCase(), path });
  figures.routes = routes.length;
  if (routes.length < 10) v.add('too few documented routes', String(routes.length));
  const fill = (path: string, name: string) =>
    path.replace('{id}', name).replace('{kind}', 'username').replace('{name}', name);

  const accepted = (h: string | undefined) => {
    // HTTP drops blanks around a header value before the service sees it.
    const m = h === undefined ? null : /^Bearer (\S+)$/i.exec(h.replace(/^[ \t]+|[ \t]+$/g, ''));
    return m !== null && m[1] === token;
  };
  const badAuth = fc
    .oneof(
      fc.constant<string | undefined>(undefined),
      fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
      fc.string({ unit: 'binary-ascii', maxLength: 80 }),
      fc
        .tuple(fc.nat(token.length - 1), fc.constantFrom(...'abcdefXYZ019-_'))
        .map(([i, c]) => `Bearer ${token.slice(0, i)}${c}${token.slice(i + 1)}`),
      fc.nat(token.length - 1).map((n) => `Bearer ${token.slice(0, n)}`),
      fc.constantFrom(
        `Bearer ${token}x`,
        `Bearer  ${token}`,
        `Bearer ${token} `,
        `Bearer${token}`,
        `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
        `Token ${token}`,
        `Bearer ${token},Bearer ${token}`,
        `Bearer admin:${token}`,
        token,
      ),
    )
    .filter((h) => h === undefined || /^[\t\x20-\x7e]*$/.test(h)); // what an HTTP client can send
  const placement = fc.constantFrom('header', 'query', 'cookie', 'none');
  const prop = fc.asyncProperty(
    fc.constantFrom(...routes),
    badAuth,
    placement,
    async (route, auth, where) => {
      fc.pre(!accepted(auth));
      const ask = (name: string) => {
        const headers: Record<string, string> = { ...JSON_HEADERS };
        let path = fill(route.path, name);
        if (where === 'header' && auth !== undefined) headers.Authorization = auth;
        if (where === 'query') path += `?access_token=${encodeURIComponent(token)}`;
        if (where === 'cookie') headers.Cookie = `token=${token}; Authorization=Bearer ${token}`;
        const withBody = route.method !== 'GET' && route.method !== 'DELETE';
        return send(port, path, {
          method: route.method,
          headers,
          body: withBody ? JSON.stringify({ password: 'a-new-password-1', acl: [] }) : '',
        });
      };
      const [a, b] = [await ask(existing), await ask(missing)];
      const what = `${route.method} ${route.path} (${where} ${JSON.stringify(auth)?.slice(0, 40)})`;
      if (a.status !== 401) throw new Error(`${what}: ${a.status} ${a.body}`);
      if (fingerprint(a) !== fingerprint(b))
        throw new Error(
          `${what}: existing and missing differ:\n${fingerprint(a)}\n${fingerprint(b)}`,
        );
      if (!String(a.headers['www-authenticate']).startsWith('Bearer'))
        throw new Error(`${what}: no WWW-Authenticate`);
      if (a.body.includes(existing)) throw new Error(`${what}: the answer names the device`);
      const missingHeaders = missingSecurityHeaders(a);
      if (missingHeaders.length) throw new Error(`${what}: ${missingHeaders.join(', ')}`);
    },
  );
  const run = await fc.check(prop, { numRuns: RUNS, seed, endOnFailure: true });
  if (run.failed) v.add('refusal', `${String(run.errorInstance)}\n${fc.defaultReportMessage(run)}`);
  figures.runs = run.numRuns;

  // A body the parser refuses is refused before the token is looked at: same for both ids.
  const bad = await Promise.all(
    [existing, missing].map((n) =>
      send(port, `/api/v1/devices/${n}/password`, {
        body: '{"password":',
        headers: JSON_HEADERS,
      }),
    ),
  );
  figures.unauthenticatedMalformedBody = (bad[0] as Answer).status;
  if (fingerprint(bad[0] as Answer) !== fingerprint(bad[1] as Answer))
    v.add('malformed body refusal differs', `${bad[0]?.status} vs ${bad[1]?.status}`);
  if ((bad[0] as Answer).status < 400 || (bad[0] as Answer).status >= 500)
    v.add('malformed unauthenticated body', String(bad[0]?.status));

  // Security headers on every kind of Express answer; the check fast path has none by design.
  const samples: [string, Promise<Answer>][] = [
    ['201', send(port, '/api/v1/devices', { body: '{}', headers: bearer(token) })],
    ['200 list', send(port, '/api/v1/devices', { method: 'GET', headers: bearer(token) })],
    ['400 validation', send(port, '/api/v1/devices', { body: '{"id":"a:b"}', headers: bearer(token) })],
    ['400 parse', send(port, '/api/v1/devices', { body: '{', headers: bearer(token) })],
    ['401', send(port, '/api/v1/devices', { method: 'GET' })],
    ['404 device', send(port, `/api/v1/devices/${missing}`, { method: 'GET', headers: bearer(token) })],
    ['404 route', send(port, '/nowhere', { method: 'GET' })],
    ['409', send(port, '/api/v1/devices', { body: JSON.stringify({ id: existing }), headers: bearer(token) })],
    ['413', send(port, '/api/v1/devices', { body: 'x'.repeat(300 * 1024), headers: bearer(token) })],
    ['415', send(port, '/api/v1/devices', { body: 'id=x', headers: { ...bearer(token), 'Content-Type': 'text/plain' } })],
    ['healthz', send(port, '/healthz', { method: 'GET' })],
    ['readyz', send(port, '/readyz', { method: 'GET' })],
    ['metrics', send(port, '/metrics', { method: 'GET' })],
    ['openapi', send(port, '/api/v1/openapi.json', { method: 'GET' })],
  ]; // prettier-ignore
  for (const [what, p] of samples) {
    const a = await p;
    const missingHeaders = missingSecurityHeaders(a);
    if (missingHeaders.length)
      v.add('security headers missing', `${what} (${a.status}): ${missingHeaders.join(', ')}`);
    if (what === '201' && a.headers['cache-control'] !== 'no-store')
      v.add('a password answer may be cached', String(a.headers['cache-control']));
  }
  const rotate = await send(port, `/api/v1/devices/${existing}/password`, {
    body: '{}',
    headers: bearer(token),
  });
  if (rotate.status !== 200 || rotate.headers['cache-control'] !== 'no-store')
    v.add(
      'a password answer may be cached',
      `rotate: ${rotate.status} ${rotate.headers['cache-control']}`,
    );
  const check = await send(port, '/mqtt/superuser', {
    body: '{"username":"x"}',
    headers: JSON_HEADERS,
  });
  figures.checkPathSecurityHeaders = Object.keys(SECURITY_HEADERS).filter(
    (h) => check.headers[h],
  ).length;
  report('management-auth', figures);
  expect(v.list()).toEqual([]);
  expect(Number(figures.routes)).toBeGreaterThanOrEqual(13);
  expect(figures.runs).toBe(RUNS);
});

test('two Authorization headers are a 400 naming the header, even when both hold the token', async () => {
  const path = '/api/v1/devices';
  for (const pair of [
    [`Bearer ${st.token}`, `Bearer ${st.token}`],
    [`Bearer ${st.token}`, 'Bearer wrong-token-0123456789'],
    ['Bearer wrong-token-0123456789', `Bearer ${st.token}`],
  ]) {
    const a = await send(port, path, { method: 'GET', headers: { Authorization: pair } });
    expect(a.status).toBe(400);
    const body = JSON.parse(a.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(/Authorization/);
    expect(a.body).not.toContain(st.token);
  }
  const one = await send(port, path, { method: 'GET', headers: bearer(st.token) });
  expect(one.status).toBe(200);
});
