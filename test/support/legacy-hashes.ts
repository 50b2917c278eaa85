// Hashes as the real tools write them, for tests: go-auth's PBKDF2 (its published vectors, and
// its format from its documented parameters), `htpasswd -B` and the `argon2` CLI.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { commandSync } from './processes';

/** go-auth's hashWithSalt (hashing/pbkdf2.go), written from its source for test vectors. */
export function goAuthPbkdf2(
  password: string,
  o: {
    digest?: 'sha256' | 'sha512';
    iterations?: number;
    keyLen?: number;
    salt?: Buffer;
    utf8?: boolean;
  } = {},
): string {
  const { digest = 'sha512', iterations = 100000, keyLen = 32 } = o;
  const salt = o.salt ?? randomBytes(16);
  const key = pbkdf2Sync(password, salt, iterations, keyLen, digest);
  const s = o.utf8 ? salt.toString('utf8') : salt.toString('base64');
  return `PBKDF2$${digest}$${iterations}$${s}$${key.toString('base64')}`;
}

/** A hashing tool's output; a tool that fails (or is missing) fails the test that asked. */
function tool(cmd: string, args: string[], input?: string): string {
  const r = commandSync(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} failed (${r.code ?? 'not run'}): ${r.stderr}`);
  return r.stdout;
}

/** `htpasswd -nbB -C cost user password` → the hash ($2y$). */
export function htpasswdBcrypt(password: string, cost = 5): string {
  const out = tool('htpasswd', ['-nbB', '-C', String(cost), 'u', password]);
  return out.trim().split(':')[1] as string;
}

/** The `argon2` CLI: `printf %s password | argon2 SALT -id -t T -m LOG2KIB -p P -e`. */
export function argon2Cli(
  password: string,
  o: { t?: number; m?: number; p?: number } = {},
): string {
  const salt = randomBytes(12).toString('hex');
  const args = [
    salt,
    '-id',
    '-t',
    String(o.t ?? 3),
    '-m',
    String(o.m ?? 12),
    '-p',
    String(o.p ?? 1),
    '-e',
  ];
  return tool('argon2', args, password).trim();
}

// Published by go-auth (its test files and README, and its `pw` tool's documented output):
// PBKDF2-SHA512, 100 000 iterations, 16-byte salts, 64-byte keys.
export const GO_AUTH_VECTORS: [string, string][] = [
  ['test1', 'PBKDF2$sha512$100000$2WQHK5rjNN+oOT+TZAsWAw==$TDf4Y6J+9BdnjucFQ0ZUWlTwzncTjOOeE00W4Qm8lfPQyPCZACCjgfdK353jdGFwJjAf6vPAYaba9+z4GWK7Gg=='],
  ['testpw', 'PBKDF2$sha512$100000$os24lcPr9cJt2QDVWssblQ==$BK1BQ2wbwU1zNxv3Ml3wLuu5//hPop3/LvaPYjjCwdBvnpwusnukJPpcXQzyyjOlZdieXTx6sXAcX4WnZRZZnw=='],
  ['foo', 'PBKDF2$sha512$100000$qsU7xQ8YCV/9nRuBBJVTxA==$jqw94Ej3aEr97UofY6rClmVCRkTdDiubQW0A6ZYmUI+pZjW9Hax+2w2FeYB3y5ut1SliB7+HAwIl2iONLKkohw=='],
]; // prettier-ignore
