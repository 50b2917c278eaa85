// Runs export-runner.js as a child against a prefix, into a temp directory it then removes.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExportFigures } from './export-runner';
import { spawnNode } from './processes';

export interface ExportReport extends ExportFigures {
  passwdBytes: number;
  aclBytes: number;
}

export async function measureExport(redisUrl: string, prefix: string): Promise<ExportReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-authd-bench-export-'));
  const passwd = path.join(dir, 'passwd');
  const acl = path.join(dir, 'acl');
  try {
    const child = spawnNode('export', [path.join(__dirname, 'export-runner.js')], {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      PASSWD_FILE: passwd,
      ACL_FILE: acl,
      MOSQUITTO_RELOAD: 'none',
      LOG_LEVEL: 'warn',
    });
    const code = await child.exited;
    const line = child
      .logs()
      .split('\n')
      .find((l) => l.startsWith('{"ms"'));
    if (code !== 0 || !line) throw new Error(`export run failed (exit ${code}):\n${child.logs()}`);
    const figures = JSON.parse(line) as ExportFigures;
    const [p, a] = await Promise.all([stat(passwd), stat(acl)]);
    return { ...figures, passwdBytes: p.size, aclBytes: a.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
