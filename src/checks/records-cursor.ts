// The records page's cursor: where the walk over the 64 buckets stands (a bucket and the
// last name read in it), opaque to the plugin. Pure.
import { badRequest } from '../errors';
import { BUCKETS } from '../store/keys';
import type { NamePosition } from '../store/credential-store';

const FORM = /^p1\.([0-9]{1,2})\.([A-Za-z0-9_-]*)$/;

export const encodePosition = (p: NamePosition): string =>
  `p1.${p.bucket}.${Buffer.from(p.name ?? '', 'utf8').toString('base64url')}`;

/** A cursor this service wrote (any process of the same store), or a bad_request. */
export function decodePosition(cursor: string): NamePosition {
  const m = FORM.exec(cursor);
  const bucket = m ? Number(m[1]) : NaN;
  if (!m || !(bucket < BUCKETS)) throw badRequest('cursor: not a cursor from a previous page');
  const text = m[2] as string;
  const name = Buffer.from(text, 'base64url').toString('utf8');
  // Only the spelling encodePosition writes: a name that does not round-trip is not ours.
  if (Buffer.from(name, 'utf8').toString('base64url') !== text)
    throw badRequest('cursor: not a cursor from a previous page');
  return { bucket, name: text === '' ? null : name };
}
