// The reason-coded decisions (src/domain/check-decisions.ts) beyond the vectors: the order of
// the questions, and the client-id binding's substitution.
import {
  clientIdAllowed,
  decideCheck,
  loginDecision,
  refusal,
  superuserDecision,
} from '../../src/domain/check-decisions';

const rec = { username: 'd', disabled: false, superuser: false, clientIds: [] as string[] };

it('refusal: unknown, then damaged (either form), then disabled', () => {
  expect(refusal(null)).toBe('unknown');
  expect(refusal({ ...rec, damaged: true, disabled: true })).toBe('damaged');
  expect(refusal({ ...rec, damaged: [{ field: 'acl' }] })).toBe('damaged');
  expect(refusal({ ...rec, damaged: [] })).toBeNull();
  expect(refusal({ ...rec, damaged: false, disabled: true })).toBe('disabled');
  expect(refusal(rec)).toBeNull();
});

it('a login: refusal before the lockout, the lockout before the binding', () => {
  expect(loginDecision({ ...rec, disabled: true }, 'x', true).reason).toBe('disabled');
  expect(loginDecision({ ...rec, clientIds: ['y'] }, 'x', true).reason).toBe('locked');
  expect(loginDecision({ ...rec, clientIds: ['y'] }, 'x', false).reason).toBe('clientid');
  expect(loginDecision({ ...rec, clientIds: ['y'] }, 'y', false)).toEqual({
    allow: true,
    reason: 'ok',
  });
});

it('the binding substitutes %u literally (no $& patterns), every occurrence', () => {
  expect(clientIdAllowed(['%u-a'], "$&$'", "$&$'-a")).toBe(true);
  expect(clientIdAllowed(['%u%u'], 'ab', 'abab')).toBe(true);
  expect(clientIdAllowed(['%u'], 'ab', '%u')).toBe(false);
  expect(clientIdAllowed([], 'ab', 'anything')).toBe(true);
});

it('superuser: only an intact, enabled superuser; the ACL check asks it first', () => {
  expect(superuserDecision({ ...rec, superuser: true, damaged: true }).reason).toBe('damaged');
  expect(superuserDecision({ ...rec, superuser: true })).toEqual({
    allow: true,
    reason: 'superuser',
  });
  const r = { username: 'd', known: true, superuser: true, acl: [] };
  expect(decideCheck(r, [], { kind: 'acl', clientid: 'c', topic: 'a/#', acc: 2 })).toEqual({
    allow: true,
    reason: 'superuser',
  });
  expect(
    decideCheck({ ...r, superuser: false }, [], { kind: 'acl', clientid: 'c', topic: 'a', acc: 9 }),
  ).toEqual({
    allow: false,
    reason: 'bad-acc',
  });
});
