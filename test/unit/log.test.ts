// The operator's logger: a burst of lines costs a few asynchronous writes, and
// every line arrives, in order.
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import fs from 'node:fs';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, exitAfterLogs } from '../../src/log.js';

const dirs: string[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  process.exitCode = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('createLogger', () => {
  test('300 lines logged at once reach the file in order, in a few writes that do not block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-test-'));
    dirs.push(dir);
    const file = join(dir, 'operator.log');
    const fd = openSync(file, 'a');
    const log = createLogger('info', fd);
    const write = jest.spyOn(fs, 'write');
    const writeSync = jest.spyOn(fs, 'writeSync');
    for (let i = 0; i < 300; i++) log.info({ i }, 'reconciled');
    const lines = await linesOf(file, 300);
    expect(lines.map((l) => l.i)).toEqual([...Array(300).keys()]);
    expect(lines[0]).toMatchObject({ msg: 'reconciled', component: 'canary-operator' });
    expect(writeSync).not.toHaveBeenCalled();
    expect(write.mock.calls.length).toBeGreaterThan(0);
    expect(write.mock.calls.length).toBeLessThan(10);
    fs.closeSync(fd);
  });
});

describe('exitAfterLogs', () => {
  test('exits once, with its code, after the lines logged just before are written (the one being written too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-test-'));
    dirs.push(dir);
    const file = join(dir, 'operator.log');
    const log = createLogger('info', openSync(file, 'a'));
    // The first line's write is under way when the second is logged and the exit asked for.
    log.error('lost leadership: renew deadline passed');
    log.error('leadership lost; exiting');
    const exits: { code: number; lines: string[] }[] = [];
    await new Promise<void>((resolve) => {
      exitAfterLogs(log, 1, 2000, (code) => {
        exits.push({ code, lines: readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg) });
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(exits).toEqual([{ code: 1, lines: ['lost leadership: renew deadline passed', 'leadership lost; exiting'] }]);
    expect(process.exitCode).toBe(1);
  });
});

/** The file's JSON lines once it holds `n` of them (written asynchronously), or what it holds after 5 s. */
async function linesOf(file: string, n: number): Promise<{ i: number; msg: string; component: string }[]> {
  const read = () => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { i: number; msg: string; component: string });
  for (let waited = 0; waited < 5000 && read().length < n; waited += 10) await new Promise((r) => setTimeout(r, 10));
  return read();
}
