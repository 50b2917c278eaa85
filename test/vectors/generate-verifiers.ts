// Builds test/vectors/verifiers.json: stored hashes, the verifier the records endpoint serves
// for each (src/domain/verifier.ts) and passwords that must and must not verify, for the
// plugin's C PBKDF2. Deterministic (salts from the case name). Regenerate: UPDATE_VECTORS=1
// npx jest test/vectors/verifiers.test.ts. Format: test/vectors/README.md.
import { createHash, pbkdf2Sync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerVerifier, decodeVerifier, type BrokerVerifier } from '../../src/domain/verifier';

/** PASSWD_ITERATIONS and PASSWD_MAX_ITERATIONS as configured by default. */
export const LIMITS = { padTo: 1000, maxIterations: 100_000 } as const;

export interface VerifierCase {
  name: string;
  hash: string;
  verifier: BrokerVerifier;
  /** Verifies against `hash` (the service says so too). */
  right: string;
  /** Does not verify. */
  wrong: string[];
}
export interface VerifierFile {
  version: 1;
  limits: typeof LIMITS;
  cases: VerifierCase[];
}

export const VERIFIERS_PATH = join(__dirname, 'verifiers.json');

const bytes = (seed: string, n: number): Buffer => {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < n; i++)
    out.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
};

const seven = (password: string, iterations: number, salt: Buffer): string =>
  `$7$${iterations}$${salt.toString('base64')}$${pbkdf2Sync(password, salt, iterations, 64, 'sha512').toString('base64')}`;

const six = (password: string, salt: Buffer): string =>
  `$6$${salt.toString('base64')}$${createHash('sha512').update(password, 'utf8').update(salt).digest('base64')}`;

const goAuth = (password: string, salt: Buffer): string =>
  `PBKDF2$sha512$1000$${salt.toString('base64')}$${pbkdf2Sync(password, salt, 1000, 32, 'sha512').toString('base64')}`;

const wrongOf = (pw: string): string[] => [
  '',
  `${pw} `,
  pw.slice(0, -1),
  pw.toUpperCase() === pw ? pw.toLowerCase() : pw.toUpperCase(),
  `x${pw}`,
];

type Make = (pw: string, salt: (n: number) => Buffer) => string;
const TABLE: [string, string, Make][] = [
  ['$7$ 1000 iterations, 12-byte salt', 'correct horse battery', (p, s) => seven(p, 1000, s(12))],
  ['$7$ 1000 iterations, 64-byte salt', 'correct horse battery', (p, s) => seven(p, 1000, s(64))],
  ['$7$ 101 iterations (mosquitto_passwd 2.0)', 'Sensor-42-pw', (p, s) => seven(p, 101, s(12))],
  ['$7$ 1 iteration', 'one-iteration', (p, s) => seven(p, 1, s(12))],
  ['$7$ 10000 iterations (10 × PASSWD_ITERATIONS)', 'at-the-bound', (p, s) => seven(p, 10000, s(12))],
  ['$7$ non-ASCII password (UTF-8)', 'pässwörd-€-😀', (p, s) => seven(p, 1000, s(12))],
  ['$7$ 256-character password', 'p'.repeat(255) + 'Q', (p, s) => seven(p, 1000, s(12))],
  ['$7$ password with "$" and ":"', 'a$b:c$7$1', (p, s) => seven(p, 1000, s(64))],
  ['$7$ generated-style password', 'Xq3vT9mK2pL8wZ4nR6yB1cD5', (p, s) => seven(p, 1000, s(12))],
  // Served as `service`: the service verifies, counts and rehashes these.
  ['$7$ 10001 iterations (slow lane)', 'over-the-bound', (p, s) => seven(p, 10001, s(12))],
  ['$7$ 16-byte salt (Mosquitto 2.1 cannot read it)', 'odd-salt-pw', (p, s) => seven(p, 1000, s(16))],
  ['$7$ above PASSWD_MAX_ITERATIONS', 'too-dear-pw', (p, s) => seven(p, 100_001, s(12))],
  ['$6$ (Mosquitto 1.x)', 'old-mosquitto', (p, s) => six(p, s(12))],
  ['go-auth PBKDF2', 'imported-device', (p, s) => goAuth(p, s(16))],
  ['not a hash', 'anything-at-all', () => '$7$1000$notbase64!$alsonot'],
]; // prettier-ignore

export function buildVerifiers(): VerifierFile {
  const cases = TABLE.map(([name, right, make]): VerifierCase => {
    const hash = make(right, (n) => bytes(name, n));
    return {
      name,
      hash,
      verifier: brokerVerifier(decodeVerifier(hash), LIMITS),
      right,
      wrong: wrongOf(right),
    };
  });
  return { version: 1, limits: LIMITS, cases };
}

export function renderVerifiers(v: VerifierFile): string {
  const lines = v.cases.map((c) => JSON.stringify(c));
  return `{"version":${v.version},"limits":${JSON.stringify(v.limits)},"cases":[\n${lines.join(',\n')}\n]}\n`;
}

export function writeVerifiers(): void {
  writeFileSync(VERIFIERS_PATH, renderVerifiers(buildVerifiers()));
}
