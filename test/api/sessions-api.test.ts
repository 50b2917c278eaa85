// The sessions part of the management API (issue 27) on the real service and Redis: sessions
// reported over POST /mqtt/sessions are listed and paged, devices say whether they are
// online, and Disconnect reaches the brokers' event stream as `disconnect {username}` —
// without revoking the device — and is audited.
import request from 'supertest';
import { openEvents, type EventStreamClient } from '../support/event-stream';
import { checkUser, send } from '../support/http';
import { ADMIN_AUTH, startTestService, type TestService } from '../support/service';

let t: TestService;
let stream: EventStreamClient;
let password: string;

const api = () => request(t.service.server);
const report = (
  broker: string,
  seq: number,
  full: boolean,
  connected: object[],
  disconnected: object[] = [],
) =>
  send(t.port, '/mqtt/sessions', {
    body: JSON.stringify({
      broker,
      boot: 'boot',
      seq,
      full,
      heartbeatMs: 5000,
      connected,
      disconnected,
    }),
    headers: { 'Content-Type': 'application/json' },
  });
const S = (username: string, clientid: string) => ({
  username,
  clientid,
  address: '127.0.0.1:40000',
  protocol: 4,
  at: Date.UTC(2026, 0, 2, 3, 4, 5),
});

beforeAll(async () => {
  t = await startTestService('sessions-api');
  const made = await api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id: 'sa-dev' });
  password = made.body.password as string;
  await api().post('/api/v1/devices').set(ADMIN_AUTH).send({ id: 'sa-idle' });
  await report('sa-b1', 1, true, [S('sa-dev', 'one'), S('sa-x', 'x1')]);
  await report('sa-b2', 1, true, [S('sa-dev', 'two')]);
  stream = await openEvents(t.port);
});
afterAll(async () => {
  stream?.close();
  await t?.stop();
});

it('lists sessions in pages, by user name, by broker', async () => {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/api/v1/sessions?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await api().get(q).set(ADMIN_AUTH).expect(200);
    names.push(
      ...res.body.sessions.map(
        (s: { broker: string; clientid: string }) => `${s.broker}/${s.clientid}`,
      ),
    );
    cursor = res.body.next as string | null;
  } while (cursor);
  expect(names).toEqual(['sa-b1/one', 'sa-b2/two', 'sa-b1/x1']);
  const mine = await api().get('/api/v1/sessions?username=sa-dev&broker=sa-b2').set(ADMIN_AUTH);
  expect(mine.body).toEqual({
    sessions: [
      {
        username: 'sa-dev',
        clientid: 'two',
        broker: 'sa-b2',
        address: '127.0.0.1:40000',
        protocol: 4,
        connectedAt: '2026-01-02T03:04:05.000Z',
      },
    ],
    next: null,
  });
  const bad = await api().get('/api/v1/sessions?cursor=nonsense').set(ADMIN_AUTH);
  expect([bad.status, bad.body.error.message]).toEqual([400, 'query.cursor: not a cursor']);
  expect((await api().get('/api/v1/sessions?limit=0').set(ADMIN_AUTH)).status).toBe(400);
});

it('devices say whether they are online, in the list and alone', async () => {
  const list = await api().get('/api/v1/devices?prefix=sa-').set(ADMIN_AUTH).expect(200);
  expect(list.body.devices.map((d: { id: string; online: boolean }) => [d.id, d.online])).toEqual([
    ['sa-dev', true],
    ['sa-idle', false],
  ]);
  expect((await api().get('/api/v1/devices/sa-idle').set(ADMIN_AUTH)).body.online).toBe(false);
});

it('presence per broker: sessions and connects', async () => {
  const res = await api().get('/api/v1/presence').set(ADMIN_AUTH).expect(200);
  const mine = res.body.brokers.filter((b: { broker: string }) => b.broker.startsWith('sa-'));
  expect(mine.map((b: { broker: string; sessions: number }) => [b.broker, b.sessions])).toEqual([
    ['sa-b1', 2],
    ['sa-b2', 1],
  ]);
});

it('Disconnect asks every broker over the stream, keeps the device, and is audited', async () => {
  const from = stream.events.length;
  const res = await api().post('/api/v1/devices/sa-dev/disconnect').set(ADMIN_AUTH).expect(202);
  expect(res.body).toEqual({ username: 'sa-dev', sessions: 2 });
  const ev = await stream.next((e) => e.event === 'disconnect', 5000, from);
  expect(ev.data).toEqual({ username: 'sa-dev' });
  // Not a revocation: no `user` event, and the device still logs in.
  expect(stream.events.slice(from).map((e) => e.event)).toEqual(['disconnect']);
  expect((await checkUser(t.port, 'sa-dev', password)).status).toBe(200);
  const audit = await api().get('/api/v1/audit?limit=5').set(ADMIN_AUTH);
  expect(audit.body.entries[0]).toMatchObject({
    action: 'disconnect',
    target: 'sa-dev',
    actor: 'test-admin',
    before: { sessions: 2 },
  });
  expect((await api().post('/api/v1/devices/sa-none/disconnect').set(ADMIN_AUTH)).status).toBe(404);
});

it('the brokers’ sessions go when they report the disconnects', async () => {
  await report('sa-b1', 2, false, [], [S('sa-dev', 'one')]);
  await report('sa-b2', 2, false, [], [S('sa-dev', 'two')]);
  expect((await api().get('/api/v1/devices/sa-dev').set(ADMIN_AUTH)).body.online).toBe(false);
});
