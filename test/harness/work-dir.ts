import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OWNER_FILE = 'owner.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `prefix*` dirs in the temp dir whose owner process is gone: a
 * killed test run (Ctrl-C on jest runs no exit handlers) leaves ~60 MB of
 * etcd data behind. Dirs without an owner file, or with a live owner, stay.
 */
async function removeStale(prefix: string): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith(prefix)) continue;
    const dir = join(tmpdir(), entry);
    const pid = Number.parseInt(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) {
      await rm(dir, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** A fresh temp dir tagged with this process's pid, after clearing ones left by dead processes. */
export async function makeWorkDir(prefix: string, log: (line: string) => void): Promise<string> {
  const removed = await removeStale(prefix);
  if (removed > 0) log(`removed ${removed} work dir(s) left by killed runs`);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}
