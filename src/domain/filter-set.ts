// Dropping filters that another filter of the same set covers, in time linear in the set size.
// The filters go into a trie of levels; for each one, a walk looks for another that covers it
// (the rule of topic.ts `covers`: `+` a level, `#` the rest and the parent, a wildcard first
// level never covers a `$` topic). The walk has a step budget: when it runs out the filter is
// kept, which is always safe (a covered rule grants nothing more), so a hostile set costs at
// most `budget` steps per filter instead of one comparison with every other filter.
import { levels } from './topic';

interface Node {
  children: Map<string, Node>;
  end: boolean;
}

const node = (): Node => ({ children: new Map(), end: false });
const isSys = (level: string | undefined) => level !== undefined && level.startsWith('$');

/** Steps one covering walk may take before it gives up and keeps the filter. */
export const COVER_WALK_BUDGET = 64;

function insert(root: Node, ls: readonly string[]): void {
  let n = root;
  for (const l of ls) {
    let next = n.children.get(l);
    if (!next) n.children.set(l, (next = node()));
    n = next;
  }
  n.end = true;
}

/** Whether a filter of the trie other than `x` itself covers `x` (false when unsure). */
function coveredByOther(root: Node, x: readonly string[], budget: number): boolean {
  const sys = isSys(x[0]);
  // [trie node, level index, path so far spells x exactly]
  const stack: [Node, number, boolean][] = [[root, 0, true]];
  let steps = 0;
  while (stack.length > 0) {
    if (++steps > budget) return false;
    const [n, i, exact] = stack.pop() as [Node, number, boolean];
    const f = x[i];
    const hash = n.children.get('#');
    if (hash?.end && !(i === 0 && sys) && !(exact && f === '#' && i === x.length - 1)) return true;
    if (f === undefined) {
      if (n.end && !exact) return true;
      continue;
    }
    if (f === '#') continue; // only a `#` rule covers `#`
    const plus = n.children.get('+');
    if (plus && !(i === 0 && sys)) stack.push([plus, i + 1, exact && f === '+']);
    if (f !== '+') {
      const lit = n.children.get(f);
      if (lit) stack.push([lit, i + 1, exact]);
    }
  }
  return false;
}

/** The distinct filters of `filters` that no other one covers, in their first order. */
export function pruneCovered(filters: Iterable<string>, budget = COVER_WALK_BUDGET): string[] {
  const unique = [...new Set(filters)];
  const split = unique.map(levels);
  const root = node();
  for (const ls of split) insert(root, ls);
  return unique.filter((_, i) => !coveredByOther(root, split[i] as string[], budget));
}
