// A file other programs read, written whole: a temp file in the same directory, fsynced,
// then renamed over the target (and the directory fsynced). Readers see the old file or
// the new one, never a mix; a crash leaves at most a stray temp file, never a torn target.
// Streaming (write() many times) keeps memory flat however many users are exported, which
// write-file-atomic (one buffer) cannot.
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface FileOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

const FLUSH_AT = 64 * 1024;

export class AtomicFile {
  private buffer: string[] = [];
  private buffered = 0;
  private readonly sha = createHash('sha256');
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly opts: FileOptions,
  ) {}

  static async open(path: string, opts: FileOptions): Promise<AtomicFile> {
    const tmp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const fh = await open(tmp, 'wx', opts.mode);
    return new AtomicFile(path, tmp, fh, opts);
  }

  async write(text: string): Promise<void> {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.buffered = 0;
    this.sha.update(chunk);
    this.bytes += chunk.length;
    await this.fh.write(chunk);
  }

  /** Flushes, fsyncs, sets mode and owner, renames over the target. Returns the sha256. */
  async commit(): Promise<string> {
    try {
      await this.flush();
      await this.fh.chmod(this.opts.mode); // open()'s mode is filtered by the umask
      if (this.opts.uid !== undefined) await this.fh.chown(this.opts.uid, this.opts.gid ?? -1);
      await this.fh.sync();
      await this.fh.close();
    } catch (err) {
      await this.abort();
      throw err;
    }
    try {
      await rename(this.tmp, this.path);
    } catch (err) {
      await unlink(this.tmp).catch(() => undefined);
      throw err;
    }
    await syncDir(dirname(this.path));
    return this.sha.digest('hex');
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}

/** sha256 of a file's current content, or null if it does not exist. */
export async function fileSha(path: string): Promise<string | null> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const sha = createHash('sha256');
    for await (const chunk of fh.createReadStream()) sha.update(chunk as Buffer);
    return sha.digest('hex');
  } finally {
    await fh.close().catch(() => undefined);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Deletes temp files of `path` left by writers that died (SIGKILL mid-write). */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix)
      ? /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length))
      : null;
    if (m && !alive(Number(m[1]))) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}
