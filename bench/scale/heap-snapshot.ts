// A summary of a V8 .heapsnapshot (node --heapsnapshot-signal): self size and
// count by constructor (objects) or by kind (strings, arrays, code, ...), so
// a run says what the operator's heap holds.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  name: string;
  count: number;
  bytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  top: HeapGroup[];
}

export function summarizeHeap(h: HeapSnapshot, top = 20): HeapSummary {
  const fields = h.snapshot.meta.node_fields;
  const width = fields.length;
  const typeField = fields.indexOf('type');
  const nameField = fields.indexOf('name');
  const sizeField = fields.indexOf('self_size');
  const types = h.snapshot.meta.node_types[typeField] as string[];
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  for (let i = 0; i < h.nodes.length; i += width) {
    const type = types[h.nodes[i + typeField]!] ?? '?';
    const size = h.nodes[i + sizeField]!;
    // Objects by constructor; everything else (strings, arrays, code, hidden) by kind.
    const name = type === 'object' || type === 'closure' ? `${h.strings[h.nodes[i + nameField]!] ?? '?'}${type === 'closure' ? ' (closure)' : ''}` : `(${type})`;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, count: 0, bytes: 0 }));
    g.count++;
    g.bytes += size;
    totalBytes += size;
  }
  return { totalBytes, nodes: h.nodes.length / width, top: [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top) };
}

/** The newest .heapsnapshot in `dir` once its size stopped changing (V8 writes it over seconds). */
export async function waitForHeapSnapshot(dir: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.heapsnapshot')).sort();
    const file = files.at(-1);
    if (file) {
      const size = (await stat(join(dir, file))).size;
      if (size > 0 && size === last) return join(dir, file);
      last = size;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return undefined;
}

export async function readHeapSnapshot(path: string): Promise<HeapSnapshot> {
  return JSON.parse(await readFile(path, 'utf8')) as HeapSnapshot;
}
