// Before measuring: one request of every kind, with the answer it must get. A benchmark of
// a service that denies everything (wrong layout, wrong prefix) would look very fast.
import type { CheckRequest } from './bodies';
import { ACL_CASES, deviceName, isSuperuser } from './devices';
import { aclRequest, superuserRequest, userRequest } from './workloads';

interface Expectation {
  what: string;
  request: CheckRequest;
  status: number;
}

function expectations(devices: number): Expectation[] {
  const a = Math.min(5, devices - 1);
  const b = Math.min(6, devices - 1);
  const su = [0, 1].find((i) => i < devices && !isSuperuser(i)) ?? 0;
  const out: Expectation[] = [];
  ACL_CASES.forEach((c, k) => {
    for (const mode of ['json', 'form'] as const) {
      out.push({
        what: `acl ${mode} ${c.why}`,
        request: aclRequest(mode, a, b, k),
        status: c.allow || (a === b && c.why === "another's topic") ? 200 : 403,
      });
    }
  });
  out.push(
    { what: 'user: right password', request: userRequest(a), status: 200 },
    { what: 'user: wrong password', request: userRequest(a, 'wrong'), status: 403 },
    { what: `superuser ${deviceName(0)}`, request: superuserRequest(0), status: 200 },
    { what: 'not a superuser', request: superuserRequest(su), status: su === 0 ? 200 : 403 },
  );
  return out;
}

export async function sanityCheck(baseUrl: string, devices: number): Promise<void> {
  const wrong: string[] = [];
  for (const e of expectations(devices)) {
    const res = await fetch(baseUrl + e.request.path, {
      method: 'POST',
      headers: e.request.headers as Record<string, string>,
      body: e.request.body,
    });
    await res.arrayBuffer();
    if (res.status !== e.status) wrong.push(`${e.what}: got ${res.status}, want ${e.status}`);
  }
  if (wrong.length) throw new Error(`sanity check failed:\n  ${wrong.join('\n  ')}`);
}
