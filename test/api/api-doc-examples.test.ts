// docs/api.md's examples, run top to bottom in one shell against the real service, as the page
// says: only its `BASE=` line is rewritten (to this test's port) and TOKEN is set.
import { docBlocks } from '../support/doc-blocks';
import { runCommand, startService, testPrefix, type ServiceProcess } from '../support/processes';
import { cleanTestPrefix, testRedisEnv } from '../support/topology';

const TOKEN = 'doc-examples-token-0123456789';
const prefix = testPrefix('api-doc');
let svc: ServiceProcess;

beforeAll(async () => {
  svc = await startService({
    env: { ...testRedisEnv(), REDIS_KEY_PREFIX: prefix, ADMIN_TOKENS: `docs:${TOKEN}` },
  });
});
afterAll(async () => {
  await svc?.stop();
  await cleanTestPrefix(prefix);
});

it('the docs/api.md examples run in order and each answers as the page says', async () => {
  const examples = docBlocks('docs/api.md').filter((b) => b.section === 'Examples');
  expect(examples).toHaveLength(1);
  const script = examples[0]!.text;
  expect(script).toMatch(/^BASE=http:\/\/127\.0\.0\.1:8080$/m);
  // Each curl's status after its body, so the test sees every answer.
  const run = script
    .replace(/^BASE=.*$/m, `BASE=${svc.url}`)
    .replace(/^curl -s /gm, "curl -s -w ' HTTP%{http_code}\\n' ");
  const r = await runCommand('bash', ['-c', `set -euo pipefail\n${run}`], {
    env: { PATH: process.env.PATH, TOKEN },
  });
  // (bash may grumble about this machine's rc files, sourced for a socket stdin: not curl's.)
  expect(r.stderr).not.toMatch(/curl/);
  expect(r.code).toBe(0);
  const answers = r.stdout.trim().split('\n');
  expect(answers.map((a) => /HTTP(\d+)$/.exec(a)?.[1])).toEqual([
    '201', // register
    '200', // rotate
    '200', // own rules
    '200', // decide
    '200', // lockouts
    '204', // delete
  ]);
  expect(answers[0]).toMatch(/"id":"sensor-42"/);
  const decision = JSON.parse(answers[3]!.replace(/ HTTP\d+$/, '')) as {
    allow: boolean;
    reason: string;
  };
  expect(decision.allow).toBe(false);
  expect(decision.reason).toMatch(/^no rule grants write \(publish\) on "plant\/sensor-42\/x"/);
  // The DELETE came last: the device is gone only now.
  const after = await fetch(`${svc.url}/api/v1/devices/sensor-42`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  expect(after.status).toBe(404);
});
