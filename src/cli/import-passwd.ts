// `mqtt-authd import-passwd FILE [--acl FILE]`: brings an existing Mosquitto installation in.
// Hashes are kept as they are, so devices keep logging in with their old passwords.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { DeviceService } from '../devices/device-service';
import type { AclRule } from '../domain/acl';
import { parseAclFile, parsePasswdLine, type LineProblem } from '../domain/mosquitto-files';
import { hashProblem } from '../domain/mosquitto-rules';
import { parseHash } from '../domain/passwd-hash';

export interface ImportReport {
  created: number;
  updated: number;
  problems: (LineProblem & { file: string })[];
  commonRules: number;
  notes: string[];
}

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

export interface ImportOptions {
  /** The acl file's `pattern` lines may replace the common rules in effect. */
  replaceCommon?: boolean;
  /** PASSWD_MAX_ITERATIONS: dearer hashes are reported, not imported. */
  maxIterations?: number;
}

const CONCURRENCY = 64;

export async function importPasswd(
  devices: DeviceService,
  passwdPath: string,
  aclPath: string | undefined,
  progress?: Progress,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const report: ImportReport = { created: 0, updated: 0, problems: [], commonRules: 0, notes: [] };
  const acl = aclPath ? parseAclFile(await readFile(aclPath, 'utf8')) : null;
  if (acl) {
    report.problems.push(...acl.problems.map((p) => ({ ...p, file: aclPath as string })));
    if (acl.anonymous.length) {
      report.notes.push(
        `${acl.anonymous.length} topic rule(s) before the first "user" line apply to anonymous clients in Mosquitto; mqtt-authd has none, so they were not imported`,
      );
    }
  }

  const size = (await stat(passwdPath)).size;
  progress?.start(size);
  const lines = createInterface({
    input: createReadStream(passwdPath, 'utf8'),
    crlfDelay: Infinity,
  });
  const seen = new Set<string>();
  const resalt: string[] = [];
  const inflight = new Set<Promise<void>>();
  let lineNo = 0;
  let bytes = 0;
  for await (const text of lines) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    const entry = parsePasswdLine(text, lineNo, opts.maxIterations);
    if (entry === null) continue;
    if (!('username' in entry)) {
      report.problems.push({ ...entry, file: passwdPath });
      continue;
    }
    seen.add(entry.username);
    // Kept (the device logs in through the plugin as before) and re-salted at its next login;
    // Mosquitto 2.1 would quit on its passwd line, so the export leaves it out until then.
    if (parseHash(entry.hash) && hashProblem(entry.hash)) resalt.push(entry.username);
    const rules: AclRule[] | undefined = acl?.users.get(entry.username);
    const p = devices
      .importHash(entry.username, entry.hash, rules)
      .then((r) => {
        if (r === 'created') report.created++;
        else report.updated++;
      })
      .catch((err: Error) => {
        report.problems.push({ line: entry.line, message: err.message, file: passwdPath });
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= CONCURRENCY) await Promise.race(inflight);
    progress?.update(bytes);
  }
  await Promise.all(inflight);
  progress?.update(size);
  progress?.stop();

  if (resalt.length) {
    report.notes.push(
      `${resalt.length} hash(es) have a salt Mosquitto 2.1 cannot read (it takes 12 or 64 bytes): imported; each gets a new hash at the device's next login and stays out of the passwd export until then: ${resalt.slice(0, 10).join(', ')}`,
    );
  }
  if (acl) {
    const what = 'pattern rule(s) in the acl file';
    if (
      acl.patterns.length &&
      (await importCommon(devices, acl.patterns, what, opts, report.notes))
    )
      report.commonRules = acl.patterns.length;
    const orphans = [...acl.users.keys()].filter((u) => !seen.has(u));
    if (orphans.length) {
      report.notes.push(
        `${orphans.length} user(s) in the acl file have no password line and were skipped: ${orphans.slice(0, 10).join(', ')}`,
      );
    }
  }
  return report;
}

/**
 * The rule every importer follows: imported common rules replace the ones in effect only with
 * `--replace-common`; otherwise the existing ones stay and a note says so. Returns whether
 * they were (or, in a dry run, would be) replaced.
 */
export async function importCommon(
  devices: DeviceService,
  rules: AclRule[],
  what: string,
  opts: { replaceCommon?: boolean; dryRun?: boolean; print?: (line: string) => void },
  notes: string[],
): Promise<boolean> {
  const current = await devices.getCommonAcl();
  if (JSON.stringify(current) === JSON.stringify(rules)) return false;
  if (!opts.replaceCommon) {
    notes.push(
      `${rules.length} ${what} would replace the ${current.length} common rule(s) in effect; kept the existing ones (rerun with --replace-common to replace them)`,
    );
    return false;
  }
  if (opts.dryRun) opts.print?.(`set common rules: ${JSON.stringify(rules)}`);
  else await devices.setCommonAcl(rules);
  return true;
}
