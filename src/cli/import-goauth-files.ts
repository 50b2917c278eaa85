// `mqtt-authd import-goauth --passwords FILE [--acl FILE]`: mosquitto-go-auth's files backend.
// The passwords file is streamed line by line; the acl file is read whole (go-auth does too).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { DeviceService } from '../devices/device-service';
import type { AclRule } from '../domain/acl';
import {
  filesCommonRules,
  filesUserRules,
  MAX_DEVICE_RULES,
  TooManyRules,
} from '../domain/goauth-acl';
import { parseGoAuthAclFile, parseGoAuthPasswordLine } from '../domain/goauth-files';
import { quoted } from '../domain/printable';
import {
  applyCommon,
  DeviceWriter,
  importableHash,
  newReport,
  type GoAuthImportOptions,
  type GoAuthReport,
} from './import-goauth-shared';

const BOM = '\uFEFF';
const BOM_NOTE = 'starts with a UTF-8 byte order mark (BOM); it was ignored';

export async function importGoAuthFiles(
  devices: DeviceService,
  passwordsPath: string,
  aclPath: string | undefined,
  opts: GoAuthImportOptions,
): Promise<GoAuthReport> {
  const report = newReport();
  const aclText = aclPath ? await readFile(aclPath, 'utf8') : null;
  if (aclText?.startsWith(BOM)) report.notes.push(`${aclPath}: ${BOM_NOTE}`);
  const acl = aclText !== null ? parseGoAuthAclFile(aclText.replace(/^\uFEFF/, '')) : null;
  if (acl) {
    for (const p of acl.problems)
      report.problems.push({ where: `${aclPath}:${p.line}`, message: p.message });
    if (acl.subscribeOnly) {
      report.notes.push(
        `${acl.subscribeOnly} "subscribe" rule(s) were left out: in mqtt-authd "read" grants subscribing, and a subscription without a read grant delivers nothing`,
      );
    }
    let common: AclRule[] | null = null;
    try {
      common = filesCommonRules(acl.common);
    } catch (err) {
      if (!(err instanceof TooManyRules)) throw err;
      report.problems.push({
        where: `${aclPath}`,
        message: `common rules: ${err.message}: not imported`,
      });
    }
    if (common) await applyCommon(devices, common, opts, report);
  }

  const writer = new DeviceWriter(devices, opts, report);
  const seen = new Set<string>();
  const size = (await stat(passwordsPath)).size;
  opts.progress?.start(size);
  const lines = createInterface({
    input: createReadStream(passwordsPath, 'utf8'),
    crlfDelay: Infinity,
  });
  let lineNo = 0;
  let bytes = 0;
  for await (let text of lines) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    const where = `${passwordsPath}:${lineNo}`;
    if (lineNo === 1 && text.startsWith(BOM)) {
      report.notes.push(`${passwordsPath}: ${BOM_NOTE}`);
      text = text.slice(1);
    }
    // The stream decodes invalid UTF-8 as U+FFFD: a name with it is not the name go-auth had.
    if (text.includes('\uFFFD')) {
      report.problems.push({ where, message: 'the line is not valid UTF-8: skipped' });
      continue;
    }
    const entry = parseGoAuthPasswordLine(text, lineNo);
    if (entry === null) continue;
    if (!('username' in entry)) {
      report.problems.push({ where, message: entry.message });
      continue;
    }
    const checked = importableHash(entry.hash, opts);
    if ('problem' in checked) {
      report.problems.push({
        where,
        message: `user ${quoted(entry.username)}: ${checked.problem}`,
      });
      continue;
    }
    if (seen.has(entry.username)) {
      report.notes.push(
        `${where}: ${quoted(entry.username)} again; the last line wins, as in go-auth`,
      );
      await writer.drain(); // in order: the earlier write must not land last
    }
    seen.add(entry.username);
    // No superusers in the files backend, so that flag is left as it is; without an acl file,
    // so are the device's rules.
    let rules: AclRule[] | undefined;
    try {
      rules = acl
        ? filesUserRules(entry.username, acl.users.get(entry.username) ?? [], acl.common)
        : undefined;
    } catch (err) {
      if (!(err instanceof TooManyRules)) throw err;
      report.problems.push({
        where,
        message: `user ${quoted(entry.username)}: ${err.message}: skipped`,
      });
      continue;
    }
    if (rules && rules.length > MAX_DEVICE_RULES) {
      report.problems.push({
        where,
        message: `user ${quoted(entry.username)}: ${rules.length} rules after mapping (at most ${MAX_DEVICE_RULES}): skipped`,
      });
      continue;
    }
    await writer.write(where, entry.username, { hash: checked.hash, acl: rules });
    opts.progress?.update(bytes);
  }
  await writer.drain();
  opts.progress?.update(size);
  opts.progress?.stop();

  const orphans = acl ? [...acl.users.keys()].filter((u) => !seen.has(u)) : [];
  if (orphans.length) {
    report.notes.push(
      `${orphans.length} user(s) in the acl file have no password line and were skipped: ${orphans
        .slice(0, 10)
        .map((u) => quoted(u))
        .join(', ')}`,
    );
  }
  return report;
}
