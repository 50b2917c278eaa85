// Logged errors keep their name, message and Redis reply, never "[object Object]" and never the
// command's arguments, whatever shape the error has.
import { createLogger } from '../../src/logger';
import { captureLog } from '../support/service';

class ReplyError extends Error {
  override name = 'ReplyError';
  command = { name: 'hset', args: ['k', 'hash', '$7$101$abcdefghijklmnop$qrstuvwxyz012345'] };
}

const cases: [string, unknown, RegExp][] = [
  ['an Error', new Error('boom'), /boom/],
  ['a Redis reply', new ReplyError('OOM command not allowed'), /OOM command not allowed/],
  ['a plain object', { name: 'ReplyError', message: 'READONLY x' }, /READONLY x/],
  ['a string', 'plain failure', /plain failure/],
  ['an error with a cause', new Error('outer', { cause: new ReplyError('LOADING') }), /LOADING/],
  ['an AggregateError', new AggregateError([new Error('inner one')], 'all failed'), /inner one/],
  ['null', null, /null/],
];

it.each(cases)('%s keeps what it says', (_what, err, says) => {
  const log = captureLog();
  const logger = createLogger('info', log.stream);
  logger.error({ err }, 'failed');
  logger.child({ name: 'authd:x' }).error({ err, kind: 'user' }, 'failed again');
  for (const line of log.lines) {
    const text = JSON.stringify(line.err);
    expect(text).not.toContain('[object Object]');
    expect(text).toMatch(says);
    expect(text).not.toMatch(/\$7\$|args/);
  }
});
