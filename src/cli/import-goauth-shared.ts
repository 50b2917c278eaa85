// What both go-auth importers (Redis backend, files backend) share: the report, the hash check,
// the common-rules rule, and writing devices with bounded concurrency.
import type { DeviceService, ImportedDevice } from '../devices/device-service';
import type { AclRule } from '../domain/acl';
import {
  legacyTooCostly,
  parseLegacyHash,
  toStoredLegacy,
  type SaltEncoding,
} from '../domain/legacy-hash';
import { importCommon, type Progress } from './import-passwd';

export interface GoAuthImportOptions {
  saltEncoding: SaltEncoding;
  /** Print what would change; write nothing. */
  dryRun: boolean;
  /** Replace common rules that differ from go-auth's (otherwise kept and reported). */
  replaceCommon: boolean;
  /** go-auth ran with `disable_superuser`: `<user>:su` keys granted nothing, so none is imported. */
  disableSuperuser?: boolean;
  /** PASSWD_MAX_ITERATIONS: hashes needing more work could never log in. */
  maxIterations: number;
  progress?: Progress;
  /** Receives one line per change in a dry run. */
  print?: (line: string) => void;
}

export interface GoAuthReport {
  created: number;
  updated: number;
  unchanged: number;
  /** Devices that kept their `$7$` hash (they had logged in here already). */
  keptHashes: number;
  /** Number of common rules written, or null when they were left as they were. */
  commonRules: number | null;
  problems: { where: string; message: string }[];
  notes: string[];
}

export const newReport = (): GoAuthReport => ({
  created: 0,
  updated: 0,
  unchanged: 0,
  keptHashes: 0,
  commonRules: null,
  problems: [],
  notes: [],
});

/** A go-auth hash as a record stores it, or why it cannot be imported. */
export function importableHash(
  raw: string,
  opts: Pick<GoAuthImportOptions, 'saltEncoding' | 'maxIterations'>,
): { hash: string } | { problem: string } {
  const hash = toStoredLegacy(raw, opts.saltEncoding);
  if (!hash) {
    const pbkdf2 = /^\$?(PBKDF2|pbkdf2-sha512)\$/.test(raw);
    const hint =
      pbkdf2 && opts.saltEncoding === 'base64'
        ? ' (if go-auth ran with hasher_salt_encoding utf-8, import with --salt-encoding utf-8)'
        : '';
    return {
      problem: `not a go-auth password hash (PBKDF2 with a key of 16 bytes or more, bcrypt, argon2id)${hint}`,
    };
  }
  const tooCostly = legacyTooCostly(parseLegacyHash(hash)!, opts.maxIterations);
  if (tooCostly) return { problem: `hash refused: ${tooCostly}; the device could not log in` };
  return { hash };
}

/** go-auth's common rules, under the passwd importer's rule (importCommon). */
export async function applyCommon(
  devices: DeviceService,
  rules: AclRule[],
  opts: GoAuthImportOptions,
  report: GoAuthReport,
): Promise<void> {
  const what = 'go-auth common rule(s) (until then devices get what the current ones grant)';
  if (await importCommon(devices, rules, what, opts, report.notes))
    report.commonRules = rules.length;
}

/** Writes devices with at most `limit` in flight; failures become problems. */
export class DeviceWriter {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly devices: DeviceService,
    private readonly opts: GoAuthImportOptions,
    private readonly report: GoAuthReport,
    private readonly limit = 64,
  ) {}

  async write(where: string, username: string, want: ImportedDevice): Promise<void> {
    const p = this.devices
      .importDevice(username, want, { dryRun: this.opts.dryRun })
      .then((r) => {
        this.report[r.result]++;
        if (r.keptHash) this.report.keptHashes++;
        if (this.opts.dryRun && r.result !== 'unchanged') {
          this.opts.print?.(
            `${r.result === 'created' ? 'create' : 'update'} ${username}: ${r.changed.join(', ')}`,
          );
        }
      })
      .catch((err: Error) => {
        this.report.problems.push({ where, message: err.message });
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    if (this.inflight.size >= this.limit) await Promise.race(this.inflight);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
  }
}
