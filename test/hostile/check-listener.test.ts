// The check listener under attack, on the built service as a real process: slow clients that
// reconnect, nested JSON bodies, browser (cross-origin) requests, and names a path cannot
// carry. A good device's checks are measured while it happens; the figures are printed.
import http from 'node:http';
import net from 'node:net';
import {
  CLI,
  cleanPrefix,
  runCommand,
  startService,
  testPrefix,
  type ServiceProcess,
} from '../support/processes';
import { ADMIN, ADMIN_AUTH, TEST_REDIS_URL } from '../support/service';
import { JSON_HEADERS, percentile, send, sleep } from '../support/http';

jest.setTimeout(120_000);
const prefix = testPrefix('check-listener');
const BODY_TIMEOUT_MS = 1000;
let s: ServiceProcess;

beforeAll(async () => {
  s = await startService({
    env: {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKENS: `${ADMIN.name}:${ADMIN.token}`,
      PASSWD_ITERATIONS: '101',
      CHECK_MAX_INFLIGHT: '150',
      CHECK_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      CHECK_HEADERS_TIMEOUT_MS: '2000',
      AUTH_FAIL_LIMIT: '5',
      CHECK_TIMEOUT_MS: '2000', // about the listener, not the Redis budget on a loaded machine
    },
  });
  for (const id of ['good', 'victim']) {
    const r = await api('POST', '/api/v1/devices', { id, password: `${id}-password` });
    if (r.status !== 201) throw new Error(`seeding ${id}: ${r.status} ${r.body}`);
  }
});
afterAll(async () => {
  await s?.stop();
  await cleanPrefix(TEST_REDIS_URL, prefix);
});

const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  send(s.port, path, {
    method,
    body: body === undefined ? '' : JSON.stringify(body),
    headers: { ...ADMIN_AUTH, 'Content-Type': 'application/json', ...headers },
  });

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
afterAll(() => agent.destroy());
const GOOD = JSON.stringify({ username: 'good', password: 'good-password', clientid: 'good-1' });

/** The good device checking in a loop until `stop`; each answer's status and time. */
async function goodChecks(stop: () => boolean) {
  const out: { status: number; ms: number }[] = [];
  while (!stop()) {
    const a = await send(s.port, '/mqtt/user', {
      body: GOOD,
      headers: JSON_HEADERS,
      agent,
      timeoutMs: 10_000,
    });
    out.push({ status: a.status, ms: a.ms });
    await sleep(5);
  }
  return out;
}

const figures = (xs: { ms: number }[]) => {
  const ms = xs.map((x) => x.ms);
  return `n ${ms.length}, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`;
};

/** `n` connections that keep sending headers and one byte of body, reconnecting when cut. */
function slowAttack(n: number, mode: 'headers' | 'body') {
  let running = true;
  const cut: number[] = [];
  const sockets = new Set<net.Socket>();
  const open = () => {
    if (!running) return;
    const t0 = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port: s.port });
    sockets.add(sock);
    let timer: NodeJS.Timeout | undefined;
    sock.on('connect', () => {
      const head = 'POST /mqtt/user HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
      sock.write(mode === 'headers' ? head : `${head}Content-Length: 100000\r\n\r\n{`);
      let i = 0;
      timer = setInterval(
        () => sock.writable && sock.write(mode === 'headers' ? `X-${i++}: y\r\n` : ' '),
        300,
      );
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      sockets.delete(sock);
      cut.push(Date.now() - t0);
      setTimeout(open, 10);
    });
  };
  for (let i = 0; i < n; i++) open();
  return {
    cut,
    stop() {
      running = false;
      for (const sock of sockets) sock.destroy();
    },
  };
}

it('slow clients (200 dribbling headers, 200 sending one byte of body, reconnecting) take no check slot: a good device keeps being answered', async () => {
  let stop = false;
  const before = await goodChecks(
    (
      (n) => () =>
        n++ >= 50
    )(0),
  );
  const heads = slowAttack(200, 'headers');
  const bodies = slowAttack(200, 'body');
  await sleep(500);
  const during = goodChecks(() => stop);
  await sleep(6000);
  stop = true;
  const under = await during;
  heads.stop();
  bodies.stop();
  console.log(
    [
      `good device alone: ${figures(before)}`,
      `good device under 200 slow-header + 200 slow-body connections (CHECK_MAX_INFLIGHT=150): ${figures(under)}`,
      `slow-body connections cut after p50 ${percentile(bodies.cut, 50)} ms (${bodies.cut.length} cuts); slow-header ones after p50 ${percentile(heads.cut, 50)} ms (${heads.cut.length} cuts)`,
    ].join('\n'),
  );
  expect(under.length).toBeGreaterThan(10);
  expect(under.filter((x) => x.status !== 200)).toEqual([]);
  // The body timeout cuts a trickling body (slack for a loaded machine).
  expect(bodies.cut.length).toBeGreaterThan(200);
  expect(percentile(bodies.cut, 50)).toBeLessThan(BODY_TIMEOUT_MS + 1500);
});

it('refuses deeply nested JSON before parsing; a good check stays fast while two connections loop it', async () => {
  const depth = 120_000;
  const nested = `{"username":${'['.repeat(depth)}${']'.repeat(depth)},"password":"x"}`;
  const one = await send(s.port, '/mqtt/user?response=text', {
    body: nested,
    headers: JSON_HEADERS,
  });
  expect(one.status).toBe(400);
  expect(one.body).toMatch(/flat object/);
  const before = await goodChecks(
    (
      (n) => () =>
        n++ >= 50
    )(0),
  );
  let stop = false;
  const attackers = [0, 1].map(async () => {
    let n = 0;
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (!stop) {
      const r = await send(s.port, '/mqtt/user', { body: nested, headers: JSON_HEADERS, agent: a });
      if (r.status !== 400) throw new Error(`nested body answered ${r.status}`);
      n++;
    }
    a.destroy();
    return n;
  });
  const under = await goodChecks(
    (
      (t0) => () =>
        Date.now() - t0 > 4000
    )(Date.now()),
  );
  stop = true;
  const sent = await Promise.all(attackers);
  console.log(
    `good device alone: ${figures(before)}\n` +
      `good device while 2 connections loop a ${depth}-level body (${sent[0]! + sent[1]!} sent): ${figures(under)}`,
  );
  expect(under.filter((x) => x.status !== 200)).toEqual([]);
});

it('refuses browser requests on every check-listener path without counting a failure', async () => {
  const wrong = JSON.stringify({ username: 'victim', password: 'wrong', clientid: 'x' });
  const browser: Record<string, string>[] = [
    { 'Content-Type': 'text/plain', Origin: 'http://evil.example' },
    { 'Content-Type': 'text/plain', Origin: 'null' },
    { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site' },
    { 'Content-Type': 'text/plain', 'Sec-Fetch-Mode': 'no-cors' },
  ];
  for (let i = 0; i < 20; i++) {
    for (const headers of browser) {
      const r = await send(s.port, '/mqtt/user?response=json', { body: wrong, headers });
      expect(r.status).toBe(403);
      expect(r.body).toMatch(/browser/);
    }
  }
  // 80 refused "failures" and no lockout: the device still logs in.
  const login = await send(s.port, '/mqtt/user', {
    body: JSON.stringify({ username: 'victim', password: 'victim-password', clientid: 'v' }),
    headers: JSON_HEADERS,
  });
  expect(login.status).toBe(200);
  // Every path under /mqtt/ goes through the same door (e.g. the event stream, GET /mqtt/events).
  for (const path of ['/mqtt/acl', '/mqtt/superuser', '/mqtt/events', '/mqtt/anything']) {
    const r = await send(s.port, path, {
      method: 'GET',
      headers: { Origin: 'http://evil.example' },
    });
    expect({ path, status: r.status }).toEqual({ path, status: 403 });
  }
});

it('refuses cross-site browser requests to management and console routes', async () => {
  const evil = { Origin: 'http://evil.example' };
  const created = await api(
    'POST',
    '/api/v1/devices',
    { id: 'csrf-1', password: 'csrf-password-1' },
    evil,
  );
  expect(created.status).toBe(403);
  expect(created.body).toMatch(/cross_site_refused/);
  for (const [method, path] of [
    ['POST', '/api/v1/export'],
    ['DELETE', '/api/v1/devices/good'],
    ['GET', '/api/v1/devices'],
  ] as const) {
    const r = await api(method, path, undefined, {
      'Sec-Fetch-Site': 'cross-site',
      'Sec-Fetch-Mode': 'cors',
    });
    expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 });
  }
  // a simple request (text/plain body) is not parsed as JSON by any route
  const plain = await send(s.port, '/api/v1/devices', {
    body: JSON.stringify({ id: 'csrf-2', password: 'csrf-password-2' }),
    headers: { ...ADMIN_AUTH, 'Content-Type': 'text/plain' },
  });
  expect(plain.status).toBe(415);
  // the console's own origin, and a link to the console, still work
  const own = await api(
    'POST',
    '/api/v1/devices',
    { id: 'own-origin', password: 'own-password-1' },
    {
      Origin: `http://127.0.0.1:${s.port}`,
      'Sec-Fetch-Site': 'same-origin',
    },
  );
  expect(own.status).toBe(201);
  const nav = await send(s.port, '/admin/', {
    method: 'GET',
    headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' },
  });
  expect([200, 503]).toContain(nav.status);
  const framed = await send(s.port, '/admin/', {
    method: 'GET',
    headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' },
  });
  expect(framed.status).toBe(403);
});

it('refuses "." and ".." as ids; a lockout held by such a name is cleared without a path segment', async () => {
  for (const id of ['.', '..', '%2e', '%2E%2e']) {
    const r = await api('POST', '/api/v1/devices', { id, password: 'dots-password-1' });
    expect({ id, status: r.status }).toEqual({ id, status: 400 });
  }
  for (let i = 0; i < 6; i++) {
    await send(s.port, '/mqtt/user', {
      body: JSON.stringify({ username: '..', password: 'x', clientid: 'dots' }),
      headers: JSON_HEADERS,
    });
  }
  const listed = await api('GET', '/api/v1/lockouts');
  expect(listed.body).toContain('"name":".."');
  const cleared = await api('DELETE', `/api/v1/lockouts?username=${encodeURIComponent('..')}`);
  expect(cleared.status).toBe(204);
  const after = JSON.parse((await api('GET', '/api/v1/lockouts')).body) as {
    lockouts: { kind: string; name: string }[];
  };
  expect(after.lockouts.filter((l) => l.kind === 'username' && l.name === '..')).toEqual([]);
  // the command line clears it too
  for (let i = 0; i < 6; i++) {
    await send(s.port, '/mqtt/user', {
      body: JSON.stringify({ username: '..', password: 'x', clientid: 'dots-2' }),
      headers: JSON_HEADERS,
    });
  }
  expect((await api('GET', '/api/v1/lockouts')).body).toContain('"name":".."');
  const cli = await runCommand(process.execPath, [CLI, 'lockout-clear', '--username', '..'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    },
  });
  expect(cli.stderr).toMatch(/"action":"clear-lockout","target":"username:\.\."/); // audited
  expect(cli.stdout).toMatch(/cleared the lockout of username "\.\."/);
  expect((await api('GET', '/api/v1/lockouts')).body).not.toContain('"name":".."');
  expect((await api('DELETE', '/api/v1/lockouts')).status).toBe(400);
  expect((await api('DELETE', '/api/v1/lockouts?username=a&clientid=b')).status).toBe(400);
});
