// The oracle tests check stored hashes with: the service's own HashWork (what a login runs),
// without padding, with a bound of the test's choosing (none by default).
import { HashWork, type BoundedResult } from '../../src/domain/hash-work';

export function verifyPassword(
  password: string,
  stored: string,
  maxIterations = Number.MAX_SAFE_INTEGER,
): Promise<BoundedResult> {
  return new HashWork({ maxIterations, padTo: 1 }).verify(password, stored);
}
