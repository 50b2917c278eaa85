/// <reference lib="dom" />
// The operator console in a real Chromium (Debian's package, driven by playwright-core: no
// browser download) against the real service and Redis. One browser and one service for the
// whole file. It walks the flow an operator does, and on every page asserts: no console
// errors, no CSP violations, no request leaving the service, no serious or critical axe
// violations. Screenshots go to test-output/console-browser/ (not committed).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { consoleDir } from '../../src/api/console-router';
import { ADMIN, startTestService, type TestService } from '../support/service';
import { checkUser, JSON_HEADERS, rawRequest } from '../support/http';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'test-output', 'console-browser');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const DEV = 'console-dev-1';
/** A token with a colon of its own: ADMIN_TOKENS=colon:with:colon-… holds the token `with:colon-…`. */
const COLON = { name: 'colon', token: 'with:colon-0123456789abcdef' };

let t: TestService;
let exportDir: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let origin: string;
const consoleErrors: string[] = [];
const outside: string[] = [];
const failed: string[] = [];
/** API answers >= 400 the flow provokes on purpose (a wrong token, a rejected rule). */
const expectedFailures: string[] = [];

const login = (username: string, password: string, clientid = 'c1') =>
  checkUser(t.port, username, password, clientid).then((r) => r.status);

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function checkA11y(name: string): Promise<void> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an inline
  // <script> tag would be refused, as it should be).
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const r = await axe.run();
    return (r.violations as { id: string; impact: string; nodes: { target: unknown }[] }[])
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
  expect({ page: name, violations }).toEqual({ page: name, violations: [] });
}

const heading = () => page.locator('h1');
const navTo = (label: string) => page.getByRole('link', { name: label, exact: true }).click();

beforeAll(async () => {
  if (!existsSync(path.join(consoleDir(), 'index.html'))) {
    throw new Error(`the console is not built in ${consoleDir()}: run npm run build first`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run scripts/setup.sh --test (apt-get install chromium)`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  exportDir = mkdtempSync(path.join(tmpdir(), 'authd-console-'));
  t = await startTestService(
    'console',
    {
      AUTH_FAIL_LIMIT: '2',
      AUTH_LOCK_S: '600',
      PASSWD_FILE: path.join(exportDir, 'passwd'),
      ACL_FILE: path.join(exportDir, 'acl'),
    },
    { adminTokens: [ADMIN, COLON] },
  );
  origin = `http://127.0.0.1:${t.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // root in CI has no user namespaces for the sandbox; /dev/shm is small in containers
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every 4xx fetch as an error; those are checked against expectedFailures.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
      return;
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) outside.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  // Nothing may leave: anything not for the service is refused (and recorded above).
  await context.route('**/*', (route) =>
    route.request().url().startsWith(`${origin}/`) || route.request().url().startsWith('data:')
      ? route.continue()
      : route.abort(),
  );
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  if (exportDir) rmSync(exportDir, { recursive: true, force: true });
});

afterEach(() => {
  expect(consoleErrors).toEqual([]);
  expect(outside).toEqual([]);
  expect(failed.filter((f) => !expectedFailures.includes(f))).toEqual([]);
  failed.length = 0;
});

let password = '';

describe('the operator console', () => {
  it('is served under a strict CSP, with no inline scripts', async () => {
    const res = await page.goto(`${origin}/admin`);
    expect(page.url()).toBe(`${origin}/admin/`);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await page.locator('script:not([src])').count()).toBe(0);
    await expect(heading().textContent()).resolves.toBe('Sign in to mqtt-authd');
    await checkA11y('sign-in');
    await shoot('01-sign-in');
  });

  it('signs in by keyboard, refusing a wrong token in words; the token stays in sessionStorage', async () => {
    expectedFailures.push('401 GET /api/v1/devices');
    // By keyboard alone: focus starts on the heading, Tab reaches the field, Enter submits.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type('wrong-token-wrong-token');
    await page.keyboard.press('Enter');
    await page
      .getByRole('alert')
      .getByText(/That token was refused/)
      .waitFor();
    await page.getByLabel('Admin token').fill(ADMIN.token);
    await page.getByLabel('Admin token').press('Enter');
    await heading().getByText('Devices').waitFor();
    await page.getByText('No devices are registered yet.').waitFor();
    const storage = await page.evaluate(() => ({
      local: JSON.stringify(localStorage),
      session: Object.values(sessionStorage),
    }));
    expect(storage.local).not.toContain(ADMIN.token);
    expect(storage.session).toEqual([ADMIN.token]);
    expect(page.url()).not.toContain(ADMIN.token);
    await checkA11y('devices-empty');
  });

  it('creates a device and shows its password once; the device logs in with it', async () => {
    await page.getByLabel('New device id').fill(DEV);
    await page.getByRole('button', { name: 'Create device' }).click();
    const once = page.getByRole('region', { name: 'One-time password' });
    await once.getByText('it will not be shown again').waitFor();
    password = (await once.getByTestId('password').textContent()) ?? '';
    expect(password).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    await page.getByRole('link', { name: DEV, exact: true }).waitFor();
    await checkA11y('devices');
    await shoot('02-devices-created');
    expect(await login(DEV, password)).toBe(200);
  });

  it('searches devices by id prefix, with an empty state in words', async () => {
    await page.getByLabel('Search by id prefix').fill('nothing-like-this');
    await page.getByText('No device id starts with "nothing-like-this".').waitFor();
    await page.getByLabel('Search by id prefix').fill('console-');
    await page.getByRole('link', { name: DEV, exact: true }).waitFor();
  });

  it('edits the ACL: a rejected rule is marked next to it, then the fix is saved', async () => {
    await page.getByRole('link', { name: DEV, exact: true }).click();
    await heading().getByText(`Device ${DEV}`).waitFor();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Pattern 1', { exact: true }).fill('plant/%u/#');
    await page.getByLabel('Access 1', { exact: true }).selectOption('readwrite');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Pattern 2', { exact: true }).fill('bad/#/x');
    expectedFailures.push(`400 PUT /api/v1/devices/${DEV}/acl`);
    await page.getByRole('button', { name: 'Save rules' }).click();
    const marked = page.getByTestId('rule').nth(1).locator('.error');
    await marked.getByText(/^Rule 2: /).waitFor();
    expect(await page.getByTestId('rule').nth(0).locator('.error').count()).toBe(0);
    await expect(
      page.getByLabel('Pattern 2', { exact: true }).getAttribute('aria-invalid'),
    ).resolves.toBe('true');
    await checkA11y('device-acl-error');
    await shoot('03-device-acl-rejected');
    await page.getByRole('button', { name: 'Remove rule 2' }).click();
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Rules saved.').waitFor();
    const stored = await t.service.ctx.store.getUser(DEV);
    expect(stored?.acl).toEqual([{ pattern: 'plant/%u/#', access: 'readwrite' }]);
    await shoot('04-device');
  });

  it('tests access: an allowed topic with the deciding rule highlighted, and a denied one', async () => {
    await page.locator('main').getByRole('link', { name: 'Test access' }).click();
    await heading().getByText('Test access').waitFor();
    expect(await page.getByLabel('Device id (username)').inputValue()).toBe(DEV);
    await page.getByLabel('Topic or filter').fill(`plant/${DEV}/temp`);
    await page.getByLabel('Access', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Explain' }).click();
    const verdict = page.getByTestId('verdict');
    await verdict.getByRole('heading', { name: 'Allowed' }).waitFor();
    const deciding = verdict.locator('li.deciding');
    await expect(deciding.textContent()).resolves.toContain('plant/%u/#');
    await expect(deciding.getAttribute('aria-current')).resolves.toBe('true');
    await checkA11y('test-access-allowed');
    await shoot('05-test-access-allowed');
    // The README's picture: CONSOLE_README_SCREENSHOT=1 npx jest test/api/console-browser
    if (process.env.CONSOLE_README_SCREENSHOT === '1') {
      await page.screenshot({ path: path.join(__dirname, '..', '..', 'docs', 'console.png') });
    }

    await page.getByLabel('Topic or filter').fill('elsewhere/x');
    await page.getByRole('button', { name: 'Explain' }).click();
    await verdict.getByRole('heading', { name: 'Denied' }).waitFor();
    await expect(verdict.getByTestId('reason').textContent()).resolves.toMatch(
      /^no rule grants write \(publish\) on "elsewhere\/x"/,
    );
    expect(await verdict.locator('li.deciding').count()).toBe(0);
    await shoot('06-test-access-denied');
  });

  it('rotates: the new password is shown once, the old one stops working', async () => {
    await page.goto(`${origin}/admin/#/devices/${DEV}`);
    await heading().getByText(`Device ${DEV}`).waitFor();
    await page.getByRole('button', { name: 'Rotate password' }).click();
    const once = page.getByRole('region', { name: 'One-time password' });
    await once.getByText('it will not be shown again').waitFor();
    const fresh = (await once.getByTestId('password').textContent()) ?? '';
    expect(fresh).not.toBe(password);
    expect(await login(DEV, password)).toBe(403);
    expect(await login(DEV, fresh)).toBe(200);
    password = fresh;
  });

  it('disables the device: it is refused from then on', async () => {
    await page.getByRole('button', { name: 'Disable device' }).click();
    await page.getByText('Device disabled: it is refused from now on.').waitFor();
    await page.getByRole('button', { name: 'Enable device' }).waitFor();
    expect(await login(DEV, password)).toBe(403);
  });

  it('lists a lockout and clears it', async () => {
    for (let i = 0; i < 3; i++) await login('intruder-1', 'not-the-password', 'intruder-cid');
    await navTo('Lockouts');
    await heading().getByText('Lockouts').waitFor();
    await page.getByRole('button', { name: 'Clear lockout of intruder-1' }).waitFor();
    await checkA11y('lockouts');
    await shoot('07-lockouts');
    await page.getByRole('button', { name: 'Clear lockout of intruder-1' }).click();
    await page.getByText('Lockout of user name intruder-1 cleared.').waitFor();
    expect((await t.service.ctx.throttle.state('username', 'intruder-1')).locked).toBe(false);
    await page.getByRole('button', { name: 'Clear lockout of intruder-cid' }).click();
    await page.getByText('Nothing is locked out.').waitFor();
  });

  it('shows common rules, the audit log and the export status with live check rates', async () => {
    await navTo('Common rules');
    await page.getByLabel('Pattern 1', { exact: true }).waitFor();
    expect(await page.getByLabel('Pattern 1', { exact: true }).inputValue()).toBe('devices/%u/#');
    await checkA11y('common');
    await shoot('08-common');

    await navTo('Audit log');
    await page.getByRole('cell', { name: 'rotate' }).first().waitFor();
    await page.getByRole('cell', { name: 'clear-lockout' }).first().waitFor();
    await checkA11y('audit');
    await shoot('09-audit');

    await navTo('Export and checks');
    await page.getByText('Last success').waitFor();
    await page.getByRole('button', { name: 'Export now' }).click();
    // The disabled device is left out of the passwd file, and the page says so.
    await page.getByText('1 × disabled').waitFor();
    expect(readFileSync(path.join(exportDir, 'passwd'), 'utf8')).not.toContain(DEV);
    await page.getByTestId('rates').waitFor({ timeout: 10_000 });
    // Denied superuser checks show up as a deny rate within a couple of samples.
    const denyRate = page.getByTestId('rates').locator('.stat-deny dd');
    await expect(denyRate.textContent()).resolves.toBe('0.0/s');
    const load = setInterval(() => {
      for (let i = 0; i < 5; i++)
        void rawRequest(t.port, 'POST', '/mqtt/superuser', '{"username":"nobody-1"}', JSON_HEADERS);
    }, 100);
    try {
      await page.waitForFunction(
        () => document.querySelector('.stat-deny dd')?.textContent !== '0.0/s',
        undefined,
        { timeout: 10_000 },
      );
    } finally {
      clearInterval(load);
    }
    await checkA11y('export');
    await shoot('10-export');
  });

  it('deletes the device after a confirmation', async () => {
    await page.goto(`${origin}/admin/#/devices/${DEV}`);
    await page.getByRole('button', { name: 'Delete device' }).click();
    await page.getByRole('alertdialog').getByText('this cannot be undone').waitFor();
    await page.getByRole('button', { name: `Yes, delete ${DEV}` }).click();
    await heading().getByText('Devices').waitFor();
    expect(await t.service.ctx.store.getUser(DEV)).toBeNull();
  });

  it('is usable at phone width: no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const pages: [string, string][] = [
      ['test', 'Test access'],
      ['devices', 'Devices'],
      ['common', 'Common rules'],
      ['audit', 'Audit log'],
      ['export', 'Export and checks'],
    ];
    for (const [route, title] of pages) {
      await page.goto(`${origin}/admin/#/${route}`);
      await heading().getByText(title).waitFor();
      await page.locator('main p, main table, main form').first().waitFor();
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect({ route, overflow }).toEqual({ route, overflow: 0 });
    }
    await page.goto(`${origin}/admin/#/test`);
    await heading().getByText('Test access').waitFor();
    await checkA11y('phone');
    await shoot('11-phone-test-access');
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it('signs out and forgets the token; a refused token returns to sign-in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading().getByText('Sign in to mqtt-authd').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    expectedFailures.push('401 GET /api/v1/devices');
    await page.evaluate(() =>
      sessionStorage.setItem('mqtt-authd.token', 'revoked-token-0123456789'),
    );
    await page.goto(`${origin}/admin/#/devices`);
    await page.reload();
    await page.getByText('The service refused the token (401). Sign in again.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('accepts a token pasted as ADMIN_TOKENS holds it (name:token), and says what to paste', async () => {
    await expect(page.locator('#token-help').textContent()).resolves.toMatch(
      /as name:token .*or only the token after the colon/,
    );
    const signIn = async (pasted: string) => {
      await page.getByLabel('Admin token').fill(pasted);
      await page.getByLabel('Admin token').press('Enter');
      await heading().getByText('Devices').waitFor();
      const kept = await page.evaluate(() => Object.values(sessionStorage));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await heading().getByText('Sign in to mqtt-authd').waitFor();
      return kept;
    };
    // The whole entry is refused as a token, then its part after the first colon is accepted.
    expectedFailures.push('401 GET /api/v1/devices');
    expect(await signIn(`${ADMIN.name}:${ADMIN.token}`)).toEqual([ADMIN.token]);
    // A token that has a colon itself is used whole, not cut at its colon...
    expect(await signIn(COLON.token)).toEqual([COLON.token]);
    // ...and its entry is cut at the first colon only (the service reads names so).
    expect(await signIn(`${COLON.name}:${COLON.token}`)).toEqual([COLON.token]);
    // A name:token whose token part is wrong is refused, with words saying what to paste.
    await page.getByLabel('Admin token').fill(`${ADMIN.name}:not-the-token-0123456789`);
    await page.getByLabel('Admin token').press('Enter');
    await page
      .getByRole('alert')
      .getByText(/refused.*Paste the part after the first colon of an entry of ADMIN_TOKENS/)
      .waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
