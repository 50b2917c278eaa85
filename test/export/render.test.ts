// passwd/acl_file rendering: pure tables. What the files cannot say is exported narrower.
import { commonAclLines, passwdSkip, userAclSection } from '../../src/export/render';
import type { AclRule } from '../../src/domain/acl';
import type { DeviceRecord } from '../../src/store/records';

const HASH =
  '$7$101$njERlZMi/7DzNB9E$/yzqCUhWGkAZ2+h0JzojJAjLCVTZ8quVVHhnC1Fbf3a7pClfzV0jRcbBYlOqTFCwR+52lEHnCgkqm8JkLG47bg==';
const rec = (
  username: string,
  acl: AclRule[],
  extra: Partial<DeviceRecord> = {},
): DeviceRecord => ({
  username,
  hash: HASH,
  superuser: false,
  disabled: false,
  acl,
  clientIds: [],
  metadata: {},
  createdAt: '',
  updatedAt: '',
  ...extra,
});

describe('userAclSection', () => {
  const cases: [string, string, AclRule[], string[]][] = [
    [
      '%u substituted',
      'dev',
      [{ pattern: 'd/%u/#', access: 'readwrite' }],
      ['topic readwrite d/dev/#'],
    ],
    [
      '$& in a name stays literal',
      'a$&b',
      [{ pattern: 'd/%u', access: 'read' }],
      ['topic read d/a$&b'],
    ],
    [
      'a name reading %c keeps its grant',
      'x%cy',
      [{ pattern: 'd/%u/#', access: 'write' }],
      ['topic write d/x%cy/#'],
    ],
    ['%c grant left out', 'dev', [{ pattern: 'c/%c/#', access: 'readwrite' }], []],
    [
      '%c deny widened to +',
      'dev',
      [{ pattern: 'c/%c/secret', access: 'deny' }],
      ['topic deny c/+/secret'],
    ],
    [
      'invalid grant left out',
      'dev',
      [{ pattern: 'x\nuser victim\ntopic readwrite #', access: 'read' }],
      [],
    ],
    ['invalid deny denies all', 'dev', [{ pattern: 'a/#/b', access: 'deny' }], ['topic deny #']],
    ['superuser', 'root', [], ['topic readwrite #']],
  ];
  it.each(cases)('%s', (_n, username, acl, lines) => {
    const section = userAclSection(rec(username, acl, { superuser: username === 'root' }));
    expect(section).toBe(`\nuser ${username}\n${lines.map((l) => `${l}\n`).join('')}`);
  });
});

describe('commonAclLines', () => {
  it('writes pattern lines, skipping invalid grants and turning invalid denies into deny-all', () => {
    expect(
      commonAclLines([
        { pattern: 'devices/%u/#', access: 'readwrite' },
        { pattern: 'bad\npattern', access: 'read' },
        { pattern: ' spaced', access: 'deny' },
      ]),
    ).toBe('pattern readwrite devices/%u/#\npattern deny #\n');
  });
});

describe('passwdSkip', () => {
  it.each([
    [rec('a', []), null],
    [rec('a', [], { disabled: true }), 'disabled'],
    [rec('a', [], { clientIds: ['a-1'] }), 'bound-client-ids'],
    [rec('a', [], { hash: '$7$broken' }), 'bad-hash'],
    [rec('a', [], { hash: HASH.replace('$101$', '$0$') }), 'bad-hash'],
    [rec('a', [], { hash: HASH.slice(0, -4) + '==' }), 'bad-hash'], // 63-byte key
    [rec('a', [], { hash: HASH.replace('$7$101$', '$6$') }), null], // the $6$ shape
    [rec('a', [], { hash: `$7$1000$${'A'.repeat(86)}==$${HASH.split('$')[4]}` }), null], // 64-byte salt
    // A salt Mosquitto 2.1 cannot read (it quits on the line): left out until re-salted.
    [
      rec('a', [], { hash: `$7$1000$${'A'.repeat(22)}==$${HASH.split('$')[4]}` }),
      'unloadable-hash',
    ],
    [rec('a', [], { hash: `$6$${'A'.repeat(43)}=$${HASH.split('$')[4]}` }), 'unloadable-hash'],
  ])('%#', (r, reason) => expect(passwdSkip(r)).toBe(reason));
});

describe('lines Mosquitto 2.1 would refuse (stored before the API refused them)', () => {
  const deep = `${'a/'.repeat(201)}a`;
  it('leaves out a grant and narrows a deny to deny-all, naming each', () => {
    const notes: string[] = [];
    const section = userAclSection(
      rec('u'.repeat(128), [
        { pattern: deep, access: 'read' },
        { pattern: '%u'.repeat(512), access: 'read' }, // 65,536 bytes once filled in
        { pattern: `${deep}/#`, access: 'deny' },
        { pattern: 'ok/%u', access: 'write' },
      ]),
      (n) => notes.push(n),
    );
    expect(section).toBe(
      `\nuser ${'u'.repeat(128)}\ntopic deny #\ntopic write ok/${'u'.repeat(128)}\n`,
    );
    expect(notes).toEqual([
      expect.stringMatching(/^read "a\/a.*\.\.\.": 202 levels.*; left out$/),
      expect.stringMatching(/^read "%u%u.*": 65536 bytes.*; left out$/),
      expect.stringMatching(/^deny .*203 levels.*; exported as deny #$/),
    ]);
  });
  it('checks common pattern lines as written (%u unfilled)', () => {
    const notes: string[] = [];
    const lines = commonAclLines(
      [
        { pattern: deep, access: 'read' },
        { pattern: '%u'.repeat(512), access: 'read' }, // 1,024 bytes as written: loads
        { pattern: deep, access: 'deny' },
      ],
      (n) => notes.push(n),
    );
    expect(lines).toBe(`pattern read ${'%u'.repeat(512)}\npattern deny #\n`);
    expect(notes).toHaveLength(2);
  });
});
