// mosquitto on a free port (reload = SIGHUP) and mosquitto_passwd.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand, startProcess, type Exit, type Proc } from './core';
import { sleep } from '../http';
import { canConnect, onFreePort } from './ports';

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface MosquittoProcess {
  port: number;
  pid: number;
  /** The directory holding mosquitto.conf (and, by convention, the test's passwd/acl files). */
  dir: string;
  confFile: string;
  /** Everything the broker logged so far (`log_type all`). */
  logs(): string;
  /** Waits until the log (from `fromIndex` on) matches `re`; returns the index after the match. */
  waitForLog(re: RegExp, timeoutMs?: number, fromIndex?: number): Promise<number>;
  /**
   * SIGHUP: re-read config, password file and ACL file. Resolves once the broker logged
   * "Reloading config."; it reloads synchronously right after that line, before it handles any
   * further packet, so a client connecting afterwards sees the new files.
   */
  reload(): Promise<void>;
  isRunning(): boolean;
  /** SIGTERM (then SIGKILL); idempotent. Removes the temp dir unless `dir` was given. */
  stop(): Promise<void>;
  /** Resolves with the exit code when it has exited (a valgrind wrapper's verdict). */
  exited: Promise<Exit>;
}

export interface StartMosquittoOptions {
  /** Extra mosquitto.conf lines (password_file, acl_file, allow_anonymous, …). */
  config: string;
  /** Directory for mosquitto.conf; a fresh temp dir (removed by stop()) if omitted. */
  dir?: string;
  /** Run as the `mosquitto` user, as a packaged broker does (the temp dir is made 0755). */
  dropPrivileges?: boolean;
  timeoutMs?: number;
  /** A command the broker runs under (`['valgrind', '--error-exitcode=99', …]`). */
  wrapper?: string[];
  /** The broker binary (default MOSQUITTO_BIN, else /usr/sbin/mosquitto): a 2.1 build. */
  bin?: string;
}

export async function startMosquitto(opts: StartMosquittoOptions): Promise<MosquittoProcess> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-mosq-')));
  const confFile = path.join(dir, 'mosquitto.conf');
  // Started as root, mosquitto 2.0 switches to the `mosquitto` user BEFORE it opens the
  // password file, the ACL file and its pid_file, so files in our 0700 temp dir would fail
  // with "Unable to open pwfile" (exit 13). `user root` keeps it root: fine for a test broker,
  // never for production. Not running as root, mosquitto ignores `user`.
  const userLine = process.getuid?.() === 0 && !opts.dropPrivileges ? 'user root' : '';
  if (opts.dropPrivileges) await chmod(dir, 0o755);
  const launch = async (port: number) => {
    const conf = [
      '# written by test/support/processes.ts',
      `listener ${port} 127.0.0.1`,
      // stderr, not stdout: mosquitto does not flush stdout, so into a pipe its log would
      // only arrive when it exits.
      'log_dest stderr',
      'log_type all',
      'log_timestamp false',
      'persistence false',
      userLine,
      opts.config,
      '',
    ].join('\n');
    await writeFile(confFile, conf);
    const [cmd, ...pre] = [...(opts.wrapper ?? []), opts.bin ?? MOSQUITTO, '-c', confFile];
    return startProcess(cmd as string, pre, { cwd: dir });
  };
  let started: { port: number; proc: Proc };
  try {
    started = await onFreePort(
      'mosquitto',
      undefined,
      launch,
      canConnect,
      opts.timeoutMs ?? 10_000,
    );
  } catch (err) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { port, proc } = started;
  const waitForLog = async (re: RegExp, ms = 5000, fromIndex = 0): Promise<number> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = re.exec(proc.logs().slice(fromIndex));
      if (m) return fromIndex + m.index + m[0].length;
      if (Date.now() > until)
        throw new Error(`mosquitto log never matched ${re} within ${ms} ms:\n${proc.logs()}`);
      if (!proc.isRunning()) throw new Error(`mosquitto exited:\n${proc.logs()}`);
      await sleep(10);
    }
  };
  return {
    port,
    pid: proc.pid,
    dir,
    confFile,
    logs: proc.logs,
    waitForLog,
    async reload() {
      const from = proc.logs().length;
      proc.signal('SIGHUP');
      await waitForLog(/Reloading config\./, 5000, from);
    },
    isRunning: proc.isRunning,
    exited: proc.exited,
    async stop() {
      await proc.stop(opts.wrapper ? 60_000 : 3000); // valgrind's leak check takes a while
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `mosquitto_passwd -b` (with -c when the file does not exist yet); `-H sha512` optional. */
export async function mosquittoPasswd(
  file: string,
  user: string,
  pass: string,
  hashArgs: string[] = [],
): Promise<void> {
  const create = existsSync(file) ? [] : ['-c'];
  const r = await runCommand('mosquitto_passwd', [...create, ...hashArgs, '-b', file, user, pass]);
  if (r.code !== 0) throw new Error(`mosquitto_passwd failed (${r.code}): ${r.stderr}`);
}
