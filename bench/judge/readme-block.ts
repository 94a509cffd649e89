// Generated figures in the README: the text between two markers,
// <!-- NAME:begin --> and <!-- NAME:end -->, is replaced whole; the
// markers stay, so the next run finds them again.
import { readFileSync, writeFileSync } from 'node:fs';

export function replaceBlock(text: string, name: string, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${begin} ... ${end} markers to write between`);
  return `${text.slice(0, from + begin.length)}\n${content.trimEnd()}\n${text.slice(to)}`;
}

export function writeReadmeBlock(path: string, name: string, content: string): void {
  writeFileSync(path, replaceBlock(readFileSync(path, 'utf8'), name, content));
}
