import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest ancestor holding this project's
 * package.json. Works from test/harness (jest, ts loader) and from
 * dist/test/harness (compiled CLI) alike.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'canary-operator') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no canary-operator package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The built operator entrypoint: package.json "main", the bundle the image's
 * ENTRYPOINT runs (dist/operator.js), so tests and the demo run what ships.
 */
export function operatorEntrypoint(root: string = projectRoot()): string {
  const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: unknown }).main;
  if (typeof main !== 'string') throw new Error(`${join(root, 'package.json')} has no "main"`);
  return join(root, main);
}
