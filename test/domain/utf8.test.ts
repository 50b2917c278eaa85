// utf8Length and base64Length count what Buffer counts, for the strings the domain sees.
import { randomBytes } from 'node:crypto';
import { base64Length, utf8Length } from '../../src/domain/utf8';

const CASES = [
  '',
  'a/b/c',
  'ä/é/ß',
  '中文/主题',
  'emoji/😀/x',
  '\ud800', // a lone high surrogate (3 bytes, as U+FFFD)
  '\udc00x', // a lone low surrogate
  'x\ud83d', // a high surrogate at the end
  '\u07ff\u0800\uffff',
];

it.each(CASES)('utf8Length(%j) is Buffer.byteLength', (s) => {
  expect(utf8Length(s)).toBe(Buffer.byteLength(s));
});

it('utf8Length matches Buffer.byteLength on random UTF-16 strings', () => {
  for (let n = 0; n < 500; n++) {
    const units = Array.from({ length: n % 40 }, () => Math.floor(Math.random() * 0x10000));
    const s = String.fromCharCode(...units);
    expect([s, utf8Length(s)]).toEqual([s, Buffer.byteLength(s)]);
  }
});

it('base64Length is the decoded length of padded base64', () => {
  for (let n = 1; n < 70; n++) {
    const s = randomBytes(n).toString('base64');
    expect(base64Length(s)).toBe(n);
  }
});
