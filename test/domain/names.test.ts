import { MAX_NAME_LENGTH, storedUsernameProblem, usernameProblem } from '../../src/domain/names';

describe('usernameProblem rejects', () => {
  it.each([
    ['empty', '', /empty/],
    ['too long', 'a'.repeat(MAX_NAME_LENGTH + 1), /at most 128/],
    ['far too long', 'a'.repeat(10_000), /at most/],
    ['colon', 'a:b', /":"/],
    ['leading colon', ':a', /":"/],
    ['trailing colon', 'a:', /":"/],
    ['space', 'a b', /whitespace/],
    ['leading space', ' a', /whitespace/],
    ['trailing space', 'a ', /whitespace/],
    ['no-break space', 'a\u00a0b', /whitespace/],
    ['ideographic space', 'a\u3000b', /whitespace/],
    ['newline', 'a\nb', /control|whitespace/],
    ['trailing newline', 'a\n', /control|whitespace/],
    ['carriage return', 'a\rb', /control|whitespace/],
    ['tab', 'a\tb', /control|whitespace/],
    ['NUL', 'a\u0000b', /control/],
    ['escape', 'a\u001bb', /control/],
    ['DEL', 'a\u007fb', /control/],
    ['C1 control', 'a\u0085b', /control|whitespace/],
    ['line separator', 'a\u2028b', /control|whitespace/],
    ['paragraph separator', 'a\u2029b', /control|whitespace/],
    ['zero-width space', 'a\u200bb', /control/],
    ['BOM', '\ufeffa', /control/],
    ['bidi override', 'a\u202eb', /control/],
    ['plus', 'a+b', /"\+"/],
    ['lone plus', '+', /"\+"/],
    ['hash', 'a#b', /"#"/],
    ['lone hash', '#', /"#"/],
    ['slash', 'a/b', /"\/"/],
    ['leading slash', '/a', /"\/"/],
    ['leading $', '$SYS', /"\$"/],
    ['lone $', '$', /"\$"/],
    ['dot', '.', /"\."/],
    ['dot dot', '..', /"\."/],
    ['encoded dot', '%2e', /"\."/],
    ['encoded dot dot', '%2E%2e', /"\."/],
    ['half-encoded dot dot', '.%2e', /"\."/],
    ['lone high surrogate', 'dev\ud800', /well-formed Unicode/],
    ['lone low surrogate', 'dev\udc00', /well-formed Unicode/],
    ['reversed pair', 'dev\ude00\ud83d', /well-formed Unicode/],
    ['U+FFFD', 'dev\ufffd', /U\+FFFD/],
    ['NFD', 'cafe\u0301', /NFC \("caf\u00e9"\)/],
    ['NFD Hangul', '\u1112\u1161\u11ab', /NFC/],
    ['combining marks only', '\u0301\u0301', /visible character/],
    ['lone combining mark', '\u0301', /visible character/],
    ['Hangul filler', '\u3164', /visible character/],
    ['halfwidth Hangul filler', '\uffa0\uffa0', /visible character/],
    ['Braille blank', '\u2800', /visible character/],
    ['variation selector only', '\ufe0f', /visible character/],
  ])('%s', (_, name, message) => {
    const problem = usernameProblem(name);
    expect(problem).not.toBeNull();
    expect(problem).toMatch(message);
  });
});

describe('usernameProblem accepts', () => {
  it.each([
    ['a'],
    ['device-42'],
    ['dev-0123456789abcdef0123456789abcdef'],
    ['sensor.kitchen.temp'],
    ['under_score'],
    ['MiXeD.Case-1'],
    ['ünïcødé'],
    ['датчик-1'],
    ['温度计'],
    ['a$b'],
    ['...'],
    ['.hidden'],
    ['a..b'],
    ['user@example.com'],
    ['a'.repeat(MAX_NAME_LENGTH)],
    ['caf\u00e9'],
    ['\ud83d\ude00'],
    ['\ud83d\udc4d\ud83c\udffd'],
    ['\u00e9\u0301'],
    ['\ud55c'],
  ])('%j', (name) => {
    expect(usernameProblem(name)).toBeNull();
  });
});

it('a name stored before the Unicode rules still passes the stored rules (it keeps exporting)', () => {
  expect(usernameProblem('cafe\u0301')).toMatch(/NFC/);
  expect(storedUsernameProblem('cafe\u0301')).toBeNull();
  expect(storedUsernameProblem('a:b')).toMatch(/":"/);
});
