// Every params × response × method combination go-auth can send, with the request bodies
// captured from the real plugin, against the real service and the real Redis.
import { startTestService, type TestService } from '../support/service';
import { eventually, FORM_HEADERS, JSON_HEADERS, rawRequest, type Answer } from '../support/http';

let t: TestService;

beforeAll(async () => {
  t = await startTestService('checks');
  const devices = t.service.ctx.devices;
  await devices.create({ id: 'watcher', password: 'wpw', acl: [{ pattern: '#', access: 'read' }] });
  await devices.create({ id: 'good', password: 'gpw' }); // common default: devices/%u/#
  await devices.create({ id: 'boss', password: 'bpw', superuser: true });
  await devices.create({
    id: 'off',
    password: 'opw',
    superuser: true,
    disabled: true,
    acl: [{ pattern: '#', access: 'readwrite' }],
  });
  await devices.create({ id: 'bound', password: 'cpw', clientIds: ['%u-main', 'spare'] });
});
afterAll(() => t.stop());

// [check, json body, form body, expected allow]
const CAPTURED: [string, string, string, boolean][] = [
  [
    'user',
    '{"clientid":"sub-watcher","password":"wpw","username":"watcher"}',
    'clientid=sub-watcher&password=wpw&username=watcher',
    true,
  ],
  [
    'user',
    '{"clientid":"sub-watcher","password":"nope","username":"watcher"}',
    'clientid=sub-watcher&password=nope&username=watcher',
    false,
  ],
  ['superuser', '{"username":"watcher"}', 'username=watcher', false],
  ['superuser', '{"username":"boss"}', 'username=boss', true],
  [
    'acl',
    '{"acc":4,"clientid":"sub-watcher","topic":"#","username":"watcher"}',
    'acc=4&clientid=sub-watcher&topic=%23&username=watcher',
    true,
  ],
  [
    'acl',
    '{"acc":2,"clientid":"pub-other","topic":"other/x","username":"good"}',
    'acc=2&clientid=pub-other&topic=other%2Fx&username=good',
    false,
  ],
  [
    'acl',
    '{"acc":2,"clientid":"pub-other","topic":"devices/good/x","username":"good"}',
    'acc=2&clientid=pub-other&topic=devices%2Fgood%2Fx&username=good',
    true,
  ],
];

type Mode = 'status' | 'text' | 'json';
function expectAnswer(res: Answer, mode: Mode, allow: boolean): void {
  expect(res.status).toBe(allow ? 200 : 403);
  if (mode === 'text') {
    if (allow) expect(res.body).toBe('ok');
    else expect(res.body).not.toBe('ok');
  }
  if (mode === 'json') {
    const body = JSON.parse(res.body) as { ok: boolean; error: string };
    if (allow) expect(res.body).toBe('{"ok":true,"error":""}');
    else {
      expect(body.ok).toBe(false);
      expect(body.error.length).toBeGreaterThan(0);
    }
  }
}

const combos: [string, Mode, string, string, string, boolean][] = [];
for (const [check, jsonBody, formBody, allow] of CAPTURED) {
  for (const mode of ['status', 'text', 'json'] as Mode[]) {
    for (const method of ['POST', 'GET', 'PUT'])
      combos.push([check, mode, method, 'json', jsonBody, allow]);
    combos.push([check, mode, 'POST', 'form', formBody, allow]); // form is always POST
  }
}

describe('captured go-auth requests', () => {
  it.each(combos)(
    '%s response=%s %s %s %s → allow %s',
    async (check, mode, method, params, body, allow) => {
      const headers = params === 'json' ? JSON_HEADERS : FORM_HEADERS;
      const res = await rawRequest(
        t.port,
        method,
        `/mqtt/${check}?response=${mode}`,
        body,
        headers,
      );
      expectAnswer(res, mode, allow);
    },
  );
});

describe('configured response mode', () => {
  it.each(['status', 'text', 'json'] as Mode[])(
    'CHECK_RESPONSE_MODE=%s applies without a query',
    async (mode) => {
      const s = await startTestService('mode', { CHECK_RESPONSE_MODE: mode });
      try {
        await s.service.ctx.devices.create({ id: 'm', password: 'mpw' });
        const ok = await rawRequest(
          s.port,
          'POST',
          '/mqtt/user',
          '{"username":"m","password":"mpw","clientid":"c"}',
          JSON_HEADERS,
        );
        expectAnswer(ok, mode, true);
        const no = await rawRequest(
          s.port,
          'POST',
          '/mqtt/user',
          'username=m&password=x&clientid=c',
          FORM_HEADERS,
        );
        expectAnswer(no, mode, false);
      } finally {
        await s.stop();
      }
    },
  );
});

describe('decisions', () => {
  const user = (username: string, password: string, clientid = 'c') =>
    rawRequest(
      t.port,
      'POST',
      '/mqtt/user',
      JSON.stringify({ username, password, clientid }),
      JSON_HEADERS,
    );
  const acl = (username: string, topic: string, acc: number | string, clientid = 'c') =>
    rawRequest(
      t.port,
      'POST',
      '/mqtt/acl',
      JSON.stringify({ username, topic, acc, clientid }),
      JSON_HEADERS,
    );

  it('denies unknown and disabled users on every check', async () => {
    for (const name of ['nobody', 'off']) {
      expect((await user(name, 'opw')).status).toBe(403);
      expect(
        (
          await rawRequest(
            t.port,
            'POST',
            '/mqtt/superuser',
            `{"username":"${name}"}`,
            JSON_HEADERS,
          )
        ).status,
      ).toBe(403);
      expect((await acl(name, 'devices/off/x', 2)).status).toBe(403);
    }
  });

  it('accepts acc as a number or a decimal string', async () => {
    expect((await acl('good', 'devices/good/a', 2)).status).toBe(200);
    expect((await acl('good', 'devices/good/a', '2')).status).toBe(200);
    expect((await acl('good', 'devices/good/a', '1')).status).toBe(200);
  });

  it('a read rule allows delivery and subscribe but not publish', async () => {
    expect((await acl('watcher', 'a/b', 1)).status).toBe(200);
    expect((await acl('watcher', 'a/+', 4)).status).toBe(200);
    expect((await acl('watcher', 'a/b', 2)).status).toBe(403);
    expect((await acl('watcher', 'a/b', 3)).status).toBe(403);
  });

  it('binds users to their client ids (%u substituted)', async () => {
    expect((await user('bound', 'cpw', 'bound-main')).status).toBe(200);
    expect((await user('bound', 'cpw', 'spare')).status).toBe(200);
    expect((await user('bound', 'cpw', 'other')).status).toBe(403);
  });

  it('denies publishing to a wildcard topic and subscribing wider than the rule', async () => {
    expect((await acl('good', 'devices/good/+', 2)).status).toBe(403);
    expect((await acl('good', 'devices/+/x', 4)).status).toBe(403);
    expect((await acl('good', 'devices/good/#', 4)).status).toBe(200);
  });

  it('a client id with wildcards never widens a %c rule', async () => {
    await t.service.ctx.devices.setAcl('watcher', [{ pattern: 'cmd/%c/#', access: 'readwrite' }]);
    await eventually(async () =>
      expect((await acl('watcher', 'cmd/c1/x', 2, 'c1')).status).toBe(200),
    );
    expect((await acl('watcher', 'cmd/x/y', 4, '#')).status).toBe(403);
    expect((await acl('watcher', 'cmd/a/b/c', 2, 'a/b')).status).toBe(403);
    expect((await acl('watcher', 'cmd/+/x', 4, '+')).status).toBe(403);
    await t.service.ctx.devices.setAcl('watcher', [{ pattern: '#', access: 'read' }]);
  });
});

describe('malformed requests are denied with 4xx, never 5xx', () => {
  const cases: [string, string, string, Record<string, string>, number][] = [
    ['invalid JSON', '/mqtt/user', '{"username":', JSON_HEADERS, 400],
    ['JSON array', '/mqtt/user', '[1,2]', JSON_HEADERS, 400],
    ['missing password', '/mqtt/user', '{"username":"good"}', JSON_HEADERS, 400],
    ['missing username', '/mqtt/superuser', 'clientid=x', FORM_HEADERS, 400],
    ['number username', '/mqtt/user', '{"username":1,"password":"x"}', JSON_HEADERS, 400],
    ['acc out of range', '/mqtt/acl', '{"username":"good","topic":"a","acc":7}', JSON_HEADERS, 400],
    ['acc not a number', '/mqtt/acl', 'username=good&topic=a&acc=write', FORM_HEADERS, 400],
    ['missing topic', '/mqtt/acl', '{"username":"good","acc":2}', JSON_HEADERS, 400],
    [
      'unknown response mode',
      '/mqtt/user?response=xml',
      '{"username":"good","password":"gpw"}',
      JSON_HEADERS,
      400,
    ],
    ['empty body', '/mqtt/user', '', JSON_HEADERS, 400],
  ];
  it.each(cases)('%s', async (_name, path, body, headers, status) => {
    const res = await rawRequest(t.port, 'POST', path, body, headers);
    expect(res.status).toBe(status);
    expect(res.body.length).toBeGreaterThan(0);
  });

  it('rejects other methods with 405', async () => {
    const res = await rawRequest(
      t.port,
      'DELETE',
      '/mqtt/user',
      '{"username":"good","password":"gpw"}',
      JSON_HEADERS,
    );
    expect(res.status).toBe(405);
  });

  it('rejects a body over the limit with 413', async () => {
    const big = JSON.stringify({ username: 'good', password: 'x'.repeat(300 * 1024) });
    const res = await rawRequest(t.port, 'POST', '/mqtt/user', big, JSON_HEADERS);
    expect(res.status).toBe(413);
  });

  it('answers malformed json-mode requests with valid JSON the plugin can read', async () => {
    const res = await rawRequest(
      t.port,
      'POST',
      '/mqtt/acl?response=json',
      '{"acc":"x"}',
      JSON_HEADERS,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ ok: false, error: expect.any(String) });
  });
});
