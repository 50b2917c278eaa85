/// <reference lib="dom" />
// The console's presence pages in a real Chromium (as test/api/console-browser.test.ts): the
// device list's Online column and filter, a device's sessions with Disconnect (the request
// reaches the event stream; the device stays), and the Live page drawing uPlot charts under
// the console's CSP with no request leaving the service and no serious axe violation.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { consoleDir } from '../../src/api/console-router';
import { openEvents, type EventStreamClient } from '../support/event-stream';
import { send } from '../support/http';
import { ADMIN, ADMIN_AUTH, startTestService, type TestService } from '../support/service';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'test-output', 'console-browser');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
let t: TestService;
let browser: Browser;
let page: Page;
let origin: string;
let stream: EventStreamClient;
const errors: string[] = [];
const outside: string[] = [];
let seq = 0;

const report = (full: boolean, connected: object[], allow: number) =>
  send(t.port, '/mqtt/sessions', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      broker: 'live-b1',
      boot: 'b',
      seq: ++seq,
      full,
      heartbeatMs: 60_000,
      connected,
      counters: { allow: { user: allow, acl: 2 * allow }, deny: { acl: 1 } },
    }),
  });
const S = (clientid: string) => ({
  username: 'pr-online',
  clientid,
  address: '192.0.2.7',
  protocol: 5,
  at: Date.now(),
});

async function axe(name: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const a = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const r = await a.run();
    return (r.violations as { id: string; impact: string }[])
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact})`);
  });
  expect({ name, violations }).toEqual({ name, violations: [] });
}

beforeAll(async () => {
  if (!existsSync(path.join(consoleDir(), 'uplot.css'))) throw new Error('run npm run build first');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: scripts/setup.sh --test`);
  mkdirSync(SHOTS, { recursive: true });
  t = await startTestService('console-presence');
  origin = `http://127.0.0.1:${t.port}`;
  for (const id of ['pr-online', 'pr-offline']) {
    const r = await send(t.port, '/api/v1/devices', {
      body: JSON.stringify({ id }),
      headers: { ...ADMIN_AUTH, 'Content-Type': 'application/json' },
    });
    expect(r.status).toBe(201);
  }
  await report(true, [S('c-1'), S('c-2')], 5);
  stream = await openEvents(t.port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await context.route('**/*', (route) =>
    route.request().url().startsWith(`${origin}/`) ? route.continue() : route.abort(),
  );
  page = await context.newPage();
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => void (!r.url().startsWith(`${origin}/`) && outside.push(r.url())));
  await page.goto(`${origin}/admin/`);
  await page.getByLabel('Admin token').fill(ADMIN.token);
  await page.getByLabel('Admin token').press('Enter');
  await page.locator('h1').getByText('Devices').waitFor();
});
afterAll(async () => {
  stream?.close();
  await browser?.close();
  await t?.stop();
});
afterEach(() => {
  expect(errors).toEqual([]);
  expect(outside).toEqual([]);
});

it('the device list says who is online and filters by it', async () => {
  const table = page.getByRole('region', { name: 'Devices' });
  await table.getByRole('row', { name: /pr-online online/ }).waitFor();
  await table.getByRole('row', { name: /pr-offline offline/ }).waitFor();
  await page.getByLabel('Show').selectOption('online');
  await page.getByRole('link', { name: 'pr-offline' }).waitFor({ state: 'detached' });
  expect(await page.getByRole('link', { name: 'pr-online', exact: true }).count()).toBe(1);
  await axe('devices-online');
  await page.screenshot({ path: path.join(SHOTS, 'presence-devices.png'), fullPage: true });
  await page.getByLabel('Show').selectOption('all');
});

it("a device's page lists its sessions; Disconnect asks the brokers and keeps the device", async () => {
  await page.getByRole('link', { name: 'pr-online', exact: true }).click();
  const sessions = page.getByRole('region', { name: 'Sessions' });
  await sessions.getByRole('row', { name: /live-b1 c-1 192\.0\.2\.7 MQTT 5/ }).waitFor();
  await sessions.getByRole('row', { name: /live-b1 c-2/ }).waitFor();
  await axe('device-sessions');
  const from = stream.events.length;
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page
    .getByText('Asked the brokers to end 2 sessions. The device may connect again.')
    .waitFor();
  const ev = await stream.next((e) => e.event === 'disconnect', 5000, from);
  expect(ev.data).toEqual({ username: 'pr-online' });
  await page.screenshot({ path: path.join(SHOTS, 'presence-device.png'), fullPage: true });
  await page.getByRole('link', { name: 'Devices', exact: true }).click();
  await page.getByRole('link', { name: 'pr-offline', exact: true }).click();
  await page.getByText(/Presence needs the mqtt-authd plugin/).waitFor();
});

it('the Live page draws the brokers over time with uPlot, under the CSP', async () => {
  await page.getByRole('link', { name: 'Live', exact: true }).click();
  await page.locator('h1').getByText('Live').waitFor();
  await page
    .getByRole('region', { name: 'Brokers now' })
    .getByRole('row', { name: /live-b1 2/ })
    .waitFor();
  await report(false, [S('c-3')], 25);
  await page
    .getByRole('region', { name: 'Brokers now' })
    .getByRole('row', { name: /live-b1 3/ })
    .waitFor();
  expect(await page.locator('.chart canvas').count()).toBe(3);
  expect(await page.locator('.chart .u-legend').first().textContent()).toContain('allow');
  await axe('live');
  await page.screenshot({ path: path.join(SHOTS, 'presence-live.png'), fullPage: true });
});
