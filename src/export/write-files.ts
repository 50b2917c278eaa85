// One pass over Redis writing both files into temp files beside them, then renamed: which
// users and lines went in, and which were left out and why (the export status shows it).
import type { CredentialStore } from '../store/credential-store';
import { hashProblem } from '../domain/mosquitto-rules';
import { COMMON } from '../store/records';
import { AtomicFile, fileSha, type FileOptions } from './atomic-file';
import {
  commonAclLines,
  damageReason,
  HEADER,
  passwdLine,
  passwdSkip,
  userAclSection,
  type SkipReason,
} from './render';

export interface Tally {
  users: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Records left out because they do not decode (the first MAX_LISTED). */
  damaged: { username: string; reason: string }[];
  /** Hashes and rule lines Mosquitto 2.1 would refuse, left out (the first MAX_LISTED). */
  unloadable: { username: string; reason: string }[];
  rulesLeftOut: number;
}

export interface WriteJob {
  passwdFile: string;
  aclFile: string;
  fileOpts: FileOptions;
  store: CredentialStore;
  maxIterations: number;
  /** Checked before the renames: a run whose lock was lost renames nothing. */
  lockLost: () => Error | null;
}

const BATCH = 1000;
/** What the export reads of each user (HMGET, not HGETALL). */
const EXPORT_FIELDS = ['hash', 'superuser', 'disabled', 'acl', 'clientIds'] as const;
const MAX_LISTED = 100;

/** Writes both files (either may be ''); `changed`: whether either file's content changed. */
export async function writeFiles(job: WriteJob): Promise<{ changed: boolean; tally: Tally }> {
  const { passwdFile, aclFile, fileOpts, store } = job;
  const before = await Promise.all([
    passwdFile ? fileSha(passwdFile) : null,
    aclFile ? fileSha(aclFile) : null,
  ]);
  const passwd = passwdFile ? await AtomicFile.open(passwdFile, fileOpts) : null;
  const acl = aclFile
    ? await AtomicFile.open(aclFile, fileOpts).catch(async (e: unknown) => {
        await passwd?.abort();
        throw e;
      })
    : null;
  const tally: Tally = { users: 0, skipped: {}, damaged: [], unloadable: [], rulesLeftOut: 0 };
  const list = (to: Tally['damaged'], username: string, reason: string) => {
    if (to.length < MAX_LISTED) to.push({ username, reason });
  };
  const noteFor = (username: string) => (reason: string) => {
    tally.rulesLeftOut++;
    list(tally.unloadable, username, reason);
  };
  try {
    await acl?.write(
      HEADER +
        '\n# Rules for every client\n' +
        commonAclLines(await store.getCommonAcl(), noteFor(COMMON)),
    );
    await passwd?.write(HEADER); // Mosquitto skips lines starting with '#'
    for await (const batch of store.iterateUsers(BATCH, EXPORT_FIELDS)) {
      for (const rec of batch) {
        const skip = passwdSkip(rec, job.maxIterations);
        if (skip) {
          tally.skipped[skip] = (tally.skipped[skip] ?? 0) + 1;
          if (skip === 'damaged') list(tally.damaged, rec.username, damageReason(rec));
          if (skip === 'unloadable-hash')
            list(tally.unloadable, rec.username, `hash: ${hashProblem(rec.hash)}`);
          continue;
        }
        tally.users++;
        await passwd?.write(passwdLine(rec));
        await acl?.write(userAclSection(rec, noteFor(rec.username)));
      }
    }
    const lost = job.lockLost();
    if (lost) throw new Error(`export lock lost: ${lost.message}`);
    const after = [passwd ? await passwd.commit() : null, acl ? await acl.commit() : null];
    return { changed: after[0] !== before[0] || after[1] !== before[1], tally };
  } catch (err) {
    await Promise.all([passwd?.abort(), acl?.abort()]);
    throw err;
  }
}
