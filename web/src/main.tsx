// The operator console: sign in with an admin token, then devices, rules, the explainer,
// lockouts, audit and export. Everything it shows comes from /api/v1 on this origin.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api';
import { href, useRoute } from './router';
import { AuditPage } from './pages/audit';
import { CommonPage } from './pages/common';
import { DevicePage } from './pages/device';
import { DevicesPage } from './pages/devices';
import { ExportPage } from './pages/export';
import { LivePage } from './pages/live';
import { LockoutsPage } from './pages/lockouts';
import { SignIn } from './pages/signin';
import { TestAccessPage } from './pages/test-access';

const NAV: [string, string][] = [
  ['devices', 'Devices'],
  ['live', 'Live'],
  ['common', 'Common rules'],
  ['test', 'Test access'],
  ['lockouts', 'Lockouts'],
  ['audit', 'Audit log'],
  ['export', 'Export and checks'],
];

function Current({ route }: { route: string[] }) {
  const [page, arg] = route;
  if (page === 'devices' && arg) return <DevicePage id={arg} />;
  if (page === 'live') return <LivePage />;
  if (page === 'common') return <CommonPage />;
  if (page === 'test') return <TestAccessPage key={arg ?? ''} user={arg} />;
  if (page === 'lockouts') return <LockoutsPage />;
  if (page === 'audit') return <AuditPage />;
  if (page === 'export') return <ExportPage />;
  return <DevicesPage />;
}

function App() {
  const [token, setToken] = useState(session.token());
  const [why, setWhy] = useState<string | undefined>();
  const route = useRoute();
  useEffect(
    () =>
      session.subscribe((t, reason) => {
        setToken(t);
        setWhy(reason);
      }),
    [],
  );
  if (!token) return <SignIn notice={why} />;
  const here = route[0] ?? 'devices';
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <p class="brand">mqtt-authd</p>
        <nav aria-label="Console">
          <ul>
            {NAV.map(([id, label]) => (
              <li key={id}>
                <a href={href(id)} aria-current={here === id ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="signout" onClick={() => session.signOut('Signed out.')}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Current route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
