// `mqtt-authd serve`: the service in the foreground until SIGTERM/SIGINT. With no admin token
// configured it makes one for this run when a person is at the terminal (shown there once,
// never logged), and otherwise logs that the management API refuses every call.
import { readAdminTokens, readConfig } from '../config';
import { buildService } from '../main';
import { firstRunMessage, firstRunToken, NO_TOKEN_WARNING } from './admin-token';

/** A person reads stderr and typed the command: not a service manager, a pipe or a container log. */
const interactive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY);

export async function serve(): Promise<void> {
  const config = readConfig();
  const tokens = readAdminTokens();
  const firstRun = tokens.length === 0 && interactive() ? firstRunToken() : null;
  const service = await buildService(config, firstRun ? { adminTokens: [firstRun] } : {});
  const log = service.ctx.logger.child({ name: 'authd:main' });
  const addr = await service.start();
  log.info(
    { host: addr.address, port: addr.port },
    `mqtt-authd listening on ${addr.address}:${addr.port}`,
  );
  if (firstRun) {
    const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    process.stderr.write(firstRunMessage(firstRun, `http://${host}:${addr.port}`));
  } else if (tokens.length === 0) {
    log.warn(NO_TOKEN_WARNING);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    // stop() closes every connection at SHUTDOWN_TIMEOUT_MS; whatever still runs then (slow-lane
    // hashes in the thread pool, an export flush) does not hold the process past this.
    const hard = setTimeout(() => {
      log.error({ signal }, 'shutdown took longer than SHUTDOWN_TIMEOUT_MS + 500 ms; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 500);
    hard.unref();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
