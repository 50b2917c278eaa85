// Pins what the real mosquitto (Debian 2.0.11) does with the files we export, so that an
// upgrade that changes it fails here instead of in production. What these tests found:
//   (a) `topic` lines before the first `user` line apply ONLY to anonymous clients, not to
//       authenticated users (src/security_default.c: the user-less ACL list is attached to
//       clients without a username). Common rules must be repeated per user or be `pattern`s.
//   (b) `pattern` lines apply to every client, wherever they appear in the file.
//   (c) `topic deny` wins over `topic readwrite #` of the same user, before or after it,
//       for writes and for reads.
//   (d) every SUBSCRIBE is granted (SUBACK with the requested QoS, never 0x80, even for `#`);
//       `read` is enforced at each delivery. A denied PUBLISH is dropped silently for MQTT 3.1.1
//       and answered with PUBACK reason 135 (not authorized) for MQTT 5.
//   (e) passwd lines starting with `#` are skipped (even with a `:` or a valid hash in them),
//       as are blank lines; the entries after them load.
//   (f) `$7$1000$<12-byte salt>$…` loads (iterations are read from the line).
//   (g) a 64-byte salt does NOT load in 2.0.11 ("Unable to decode password salt …, removing
//       entry"): only that entry is dropped, the rest of the file still loads.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { mosquittoPasswd, startMosquitto, type MosquittoProcess } from '../support/processes';

let seq = 0;

async function connect(
  port: number,
  username?: string,
  password?: string,
  protocolVersion: 4 | 5 = 4,
): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: `acl-test-${username ?? 'anon'}-${++seq}`,
    username,
    password,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
}

async function canLogin(port: number, username: string, password: string): Promise<boolean> {
  try {
    const c = await connect(port, username, password);
    await c.endAsync();
    return true;
  } catch (err) {
    // Only a CONNACK refusal is a "no"; a timeout or a dead broker fails the test.
    if (/^Connection refused: /.test((err as Error).message)) return false;
    throw err;
  }
}

/** `user:$7$iterations$salt$key` made by hand, as our exporter would write it. */
function pbkdf2Line(user: string, password: string, iterations: number, saltBytes: number) {
  const salt = randomBytes(saltBytes);
  const key = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${user}:$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function waitForMessage(client: MqttClient, topic: string, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${ms} ms`));
    }, ms);
    const onMessage = (t: string) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve();
    };
    client.on('message', onMessage);
  });
}

/**
 * Did `topic`, published by `pub`, reach `sub`? The publisher then sends a marker on a sync
 * topic both may use; the broker handles one publisher's messages in order, so once the
 * marker has arrived the answer is final (no sleeping, no guessing).
 */
async function delivered(sub: MqttClient, pub: MqttClient, topic: string): Promise<boolean> {
  const sync = `sync/${++seq}`;
  const seen: string[] = [];
  const record = (t: string) => seen.push(t);
  sub.on('message', record);
  try {
    await sub.subscribeAsync([topic, sync], { qos: 0 });
    const marker = waitForMessage(sub, sync);
    await pub.publishAsync(topic, 'payload', { qos: 1 });
    await pub.publishAsync(sync, 'marker', { qos: 1 });
    await marker;
    await sub.unsubscribeAsync([topic, sync]);
    return seen.includes(topic);
  } finally {
    sub.off('message', record);
  }
}

describe('acl_file semantics of mosquitto 2.0.11', () => {
  let broker: MosquittoProcess;
  let dir: string;
  const clients: MqttClient[] = [];
  const as = async (user?: string, protocolVersion: 4 | 5 = 4) => {
    const c = await connect(broker.port, user, user && `${user}-pw`, protocolVersion);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-acl-'));
    const passwd = path.join(dir, 'passwd');
    for (const u of ['alice', 'bob', 'carol', 'watcher']) {
      await mosquittoPasswd(passwd, u, `${u}-pw`);
    }
    const acl = path.join(dir, 'acl');
    await writeFile(
      acl,
      [
        '# before the first user line',
        'topic read anon-only/#',
        'topic readwrite shared/#',
        'topic readwrite sync/#',
        'pattern readwrite early/%u/#',
        '',
        'user alice',
        'topic readwrite #',
        'topic deny secret/#', // deny AFTER the grant
        'pattern readwrite late/%u/#',
        '',
        'user bob',
        'topic readwrite sync/#',
        'topic readwrite bob/#',
        '',
        'user carol',
        'topic deny secret/#', // deny BEFORE the grant
        'topic readwrite #',
        '',
        'user watcher',
        'topic readwrite #',
        '',
      ].join('\n'),
    );
    broker = await startMosquitto({
      dir,
      config: `allow_anonymous true\npassword_file ${passwd}\nacl_file ${acl}`,
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('(a) topic lines before the first user line', () => {
    test('apply to anonymous clients', async () => {
      const anon = await as();
      const watcher = await as('watcher');
      expect(await delivered(anon, watcher, 'anon-only/x')).toBe(true); // read
      expect(await delivered(watcher, anon, 'shared/x')).toBe(true); // write
    });

    test('do NOT apply to authenticated users', async () => {
      const bob = await as('bob');
      const watcher = await as('watcher');
      expect(await delivered(bob, watcher, 'anon-only/x')).toBe(false); // read
      expect(await delivered(watcher, bob, 'shared/x')).toBe(false); // write
      expect(broker.logs()).toMatch(/Denied PUBLISH from acl-test-bob-\d+ .*'shared\/x'/);
    });
  });

  describe('(b) pattern lines', () => {
    test('apply to every user, before the first user line or inside another user section', async () => {
      const bob = await as('bob');
      const watcher = await as('watcher');
      expect(await delivered(watcher, bob, 'early/bob/x')).toBe(true);
      expect(await delivered(watcher, bob, 'late/bob/x')).toBe(true); // line under `user alice`
      expect(await delivered(watcher, bob, 'late/alice/x')).toBe(false); // %u is bob
    });
  });

  describe('(c) topic deny vs topic readwrite # of the same user', () => {
    test('deny wins for writes, whether it comes after or before the grant', async () => {
      const watcher = await as('watcher');
      expect(await delivered(watcher, await as('alice'), 'secret/x')).toBe(false);
      expect(await delivered(watcher, await as('carol'), 'secret/x')).toBe(false);
      expect(await delivered(watcher, await as('alice'), 'public/x')).toBe(true); // control
    });

    test('deny wins for reads', async () => {
      const watcher = await as('watcher');
      expect(await delivered(await as('alice'), watcher, 'secret/x')).toBe(false);
      expect(await delivered(await as('carol'), watcher, 'secret/x')).toBe(false);
      expect(await delivered(await as('alice'), watcher, 'public/x')).toBe(true); // control
    });

    test('MQTT 5 publishers get PUBACK 135 for a denied write; 3.1.1 ones get nothing', async () => {
      const alice5 = await as('alice', 5);
      await expect(alice5.publishAsync('secret/x', 'p', { qos: 1 })).rejects.toMatchObject({
        code: 135,
      });
      const alice4 = await as('alice', 4);
      await expect(alice4.publishAsync('secret/x', 'p', { qos: 1 })).resolves.toBeDefined();
    });
  });

  describe('(d) subscriptions', () => {
    test('every SUBSCRIBE is granted, even for filters the user may not read', async () => {
      const bob = await as('bob');
      const grants = await bob.subscribeAsync(['#', 'secret/#', 'anon-only/#'], { qos: 0 });
      expect(grants.map((g) => g.qos)).toEqual([0, 0, 0]);
      const grants1 = await bob.subscribeAsync({ 'other/#': { qos: 1 } });
      expect(grants1.map((g) => g.qos)).toEqual([1]);
      await bob.unsubscribeAsync(['#', 'secret/#', 'anon-only/#', 'other/#']);
    });

    test('read is enforced at delivery: a `#` subscriber only gets what it may read', async () => {
      const bob = await as('bob');
      const watcher = await as('watcher');
      await bob.subscribeAsync('#', { qos: 0 });
      expect(await delivered(bob, watcher, 'other/x')).toBe(false);
      expect(await delivered(bob, watcher, 'bob/x')).toBe(true);
    });
  });
});

describe('password_file loading in mosquitto 2.0.11', () => {
  let broker: MosquittoProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-pw-'));
    const scratch = path.join(dir, 'scratch');
    for (const u of ['alice', 'bob', 'carol']) await mosquittoPasswd(scratch, u, `${u}-pw`);
    const made = Object.fromEntries(
      (await readFile(scratch, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l]),
    ) as Record<string, string>;
    const passwd = path.join(dir, 'passwd');
    await writeFile(
      passwd,
      [
        '# generated by mqtt-authd: do not edit', // a comment that contains a colon
        '',
        '   ',
        made.alice,
        `#${made.bob}`, // a commented-out user with a valid hash
        pbkdf2Line('salt64', 'salt64-pw', 101, 64), // (g) mosquitto 2.1's salt length
        pbkdf2Line('salt64it1000', 'salt64it1000-pw', 1000, 64), // mosquitto 2.1's defaults
        pbkdf2Line('it1000', 'it1000-pw', 1000, 12), // (f)
        pbkdf2Line('it101', 'it101-pw', 101, 12),
        // From the reference doc: a 1.x `$6$` entry, password `test`.
        'sha6:$6$njERlZMi/7DzNB9E$iiavfuXvUm8iyDZArTy7smTxh07GXXOrOsqxfW6gkOYVXHGk+W+i/8d3xDxrMwEPygEBhoA8A/gjQC0N2M4Lkw==',
        '# a trailing comment',
        made.carol, // after bad entries and comments: still loaded
        '',
      ].join('\n'),
    );
    broker = await startMosquitto({
      dir,
      config: `allow_anonymous false\npassword_file ${passwd}`,
    });
  });

  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('(e) comment and blank lines are skipped; the users around them load', async () => {
    expect(await canLogin(broker.port, 'alice', 'alice-pw')).toBe(true);
    expect(await canLogin(broker.port, 'carol', 'carol-pw')).toBe(true);
    expect(await canLogin(broker.port, 'bob', 'bob-pw')).toBe(false);
    expect(await canLogin(broker.port, '#bob', 'bob-pw')).toBe(false);
    // Skipped before parsing: no "invalid line" or hash error about the comments.
    expect(broker.logs()).not.toMatch(/generated by|#bob|Invalid line/);
  });

  test('(f) a $7$ hash with 1000 iterations and a 12-byte salt loads', async () => {
    expect(await canLogin(broker.port, 'it1000', 'it1000-pw')).toBe(true);
    expect(await canLogin(broker.port, 'it1000', 'wrong')).toBe(false);
    expect(await canLogin(broker.port, 'it101', 'it101-pw')).toBe(true);
  });

  test('(g) a 64-byte salt does not load: that entry alone is removed', async () => {
    expect(await canLogin(broker.port, 'salt64', 'salt64-pw')).toBe(false);
    expect(await canLogin(broker.port, 'salt64it1000', 'salt64it1000-pw')).toBe(false);
    expect(broker.logs()).toContain(
      'Error: Unable to decode password salt for user salt64, removing entry.',
    );
    expect(broker.logs()).toContain(
      'Error: Unable to decode password salt for user salt64it1000, removing entry.',
    );
  });

  test('a 1.x $6$ entry still loads', async () => {
    expect(await canLogin(broker.port, 'sha6', 'test')).toBe(true);
  });
});
