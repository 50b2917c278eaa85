// The list of current lockouts (GET /api/v1/lockouts): the lockout store's index, each row
// checked against its counter (a lockout cleared or expired meanwhile is left out).
import { badRequest } from '../errors';
import type { IndexRow, LockoutStore } from '../store/lockout-store';
import type { Lockout, LockoutPage } from '../contract/lockouts';
import { keyOf, type LockKind, type LoginThrottle } from './login-throttle';

export class LockoutList {
  constructor(
    private readonly store: LockoutStore,
    private readonly throttle: Pick<LoginThrottle, 'stateOfKey'>,
  ) {}

  /** Current lockouts, most time left first; `cursor` is the `next` of the previous page. */
  async list(limit: number, cursor?: string): Promise<LockoutPage> {
    const now = Date.now();
    const after = cursor ? decodeCursor(cursor) : null;
    const ties = after ? await this.store.ties(after.score) : 0;
    const raw = await this.store.page(now, after ? after.score : null, limit + 1 + ties);
    // Equal scores come in reverse member order: skip those the last page showed.
    const rows = raw.filter((r) => !(after && r.score === after.score && r.member >= after.member));
    const page = rows.slice(0, limit);
    const lockouts = await Promise.all(page.map((r) => this.lockoutOf(r)));
    const last = page[page.length - 1];
    return {
      lockouts: lockouts.filter((l): l is Lockout => l !== null),
      next: rows.length > limit && last ? encodeCursor(last.score, last.member) : null,
    };
  }

  private async lockoutOf({ member, score }: IndexRow): Promise<Lockout | null> {
    const tab = member.indexOf('\t');
    const key = member.slice(0, tab);
    const state = await this.throttle.stateOfKey(key);
    if (!state.locked) return null; // cleared or expired meanwhile
    const kind: LockKind = key.startsWith('u:') ? 'username' : 'clientid';
    const name = member.slice(tab + 1);
    return {
      kind,
      name,
      truncated: keyOf(kind, name) !== key,
      ...state,
      until: new Date(score).toISOString(),
    };
  }
}

const encodeCursor = (score: number, member: string) =>
  Buffer.from(JSON.stringify([score, member])).toString('base64url');

function decodeCursor(cursor: string): { score: number; member: string } {
  try {
    const [score, member] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof score === 'number' && typeof member === 'string') return { score, member };
  } catch {
    // fall through
  }
  throw badRequest('query.cursor: not a cursor from a previous page');
}
