// Body parsing and answer encoding of the go-auth protocol: pure tables, no I/O.
import { parseCheckBody, type CheckKind } from '../../src/checks/check-request';
import { encodeAnswer } from '../../src/checks/respond';

const JSON_CT = 'application/json';
const FORM_CT = 'application/x-www-form-urlencoded';

describe('parseCheckBody', () => {
  const ok: [CheckKind, string, string, object][] = [
    [
      'user',
      '{"clientid":"sub-watcher","password":"wpw","username":"watcher"}',
      JSON_CT,
      { username: 'watcher', password: 'wpw', clientid: 'sub-watcher' },
    ],
    [
      'user',
      'clientid=sub-watcher&password=wpw&username=watcher',
      FORM_CT,
      { username: 'watcher', password: 'wpw', clientid: 'sub-watcher' },
    ],
    ['superuser', '{"username":"watcher"}', JSON_CT, { username: 'watcher' }],
    ['superuser', 'username=watcher', FORM_CT, { username: 'watcher' }],
    [
      'acl',
      '{"acc":4,"clientid":"sub-watcher","topic":"#","username":"watcher"}',
      JSON_CT,
      { acc: 4, topic: '#' },
    ],
    [
      'acl',
      'acc=2&clientid=pub-other&topic=other%2Fx&username=good',
      FORM_CT,
      { acc: 2, topic: 'other/x' },
    ],
    ['acl', '{"acc":"3","topic":"a","username":"u"}', JSON_CT, { acc: 3 }],
    ['acl', '{"acc":1,"topic":"a","username":"u"}', '', { acc: 1 }], // no content type: sniffed
    ['acl', 'acc=1&topic=a&username=u', '', { acc: 1 }],
    [
      'user',
      '{"username":"ü名","password":"p:w&=","clientid":"c"}',
      'application/json; charset=utf-8',
      { username: 'ü名', password: 'p:w&=' },
    ],
    ['user', 'username=%C3%BC&password=a%26b%3Dc', FORM_CT, { username: 'ü', password: 'a&b=c' }],
    [
      'user',
      '{"username":"u","password":"p","clientid":null,"extra":"[{x}]"}',
      JSON_CT,
      { clientid: '' },
    ],
    ['user', '{"username":"u{","password":"p"}', JSON_CT, { username: 'u{' }],
  ];
  it.each(ok)('%s %s', (kind, body, ct, expected) => {
    const r = parseCheckBody(kind, body, ct);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.fields).toMatchObject(expected);
  });

  const bad: [CheckKind, string, string, RegExp][] = [
    ['user', '{"username":"u"', JSON_CT, /not valid JSON/],
    ['user', '"string"', JSON_CT, /object/],
    ['user', 'null', JSON_CT, /object/],
    ['user', '[]', JSON_CT, /object/],
    ['user', '{"username":"u"}', JSON_CT, /missing field: password/],
    ['user', '{"password":"p"}', JSON_CT, /missing field: username/],
    ['user', '{"username":"","password":"p"}', JSON_CT, /missing field: username/],
    ['user', '{"username":1,"password":"p"}', JSON_CT, /username must be a string/],
    ['user', '{"username":["u"],"password":"p"}', JSON_CT, /flat object/],
    ['user', '{"username":"u","password":"p","extra":[1]}', JSON_CT, /flat object/],
    ['user', '{"username":"u","password":"p","extra":{}}', JSON_CT, /flat object/],
    ['user', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, JSON_CT, /flat object/],
    ['user', `{"a":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_001)}`, 'text/plain', /flat object/],
    ['acl', '{"username":"u","topic":"a"}', JSON_CT, /missing field: acc/],
    ['acl', '{"username":"u","acc":2}', JSON_CT, /missing field: topic/],
    ['acl', '{"username":"u","topic":"a","acc":0}', JSON_CT, /acc must be/],
    ['acl', '{"username":"u","topic":"a","acc":5}', JSON_CT, /acc must be/],
    ['acl', '{"username":"u","topic":"a","acc":2.5}', JSON_CT, /acc must be/],
    ['acl', '{"username":"u","topic":"a","acc":"0x2"}', JSON_CT, /acc must be/],
    ['acl', 'username=u&topic=a&acc=', FORM_CT, /acc must be/],
    ['acl', 'username=u&topic=a&acc=-1', FORM_CT, /acc must be/],
  ];
  it.each(bad)('%s %s → %s', (kind, body, ct, error) => {
    const r = parseCheckBody(kind, body, ct);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it('takes the first of repeated form fields', () => {
    const r = parseCheckBody('superuser', 'username=a&username=b', FORM_CT);
    expect(r.ok && r.fields.username).toBe('a');
  });
});

describe('encodeAnswer', () => {
  const cases: [Parameters<typeof encodeAnswer>[0], number, string, string][] = [
    ['status', 200, '', ''],
    ['status', 403, 'nope', ''],
    ['status', 400, 'missing field: username', 'missing field: username'],
    ['text', 200, '', 'ok'],
    ['text', 403, 'nope', 'nope'],
    ['json', 200, '', '{"ok":true,"error":""}'],
    ['json', 403, 'not "ok"', '{"ok":false,"error":"not \\"ok\\""}'],
    ['json', 503, 'store unavailable', '{"ok":false,"error":"store unavailable"}'],
  ];
  it.each(cases)('%s %d', (mode, status, reason, body) => {
    const a = encodeAnswer(mode, status, reason);
    expect(a.status).toBe(status);
    expect(a.body).toBe(body);
    if (mode === 'json') expect(a.contentType).toBe('application/json');
  });

  it('text mode never says exactly "ok" when denying, whatever the reason', () => {
    expect(encodeAnswer('text', 403, '').body).not.toBe('ok');
  });
});
