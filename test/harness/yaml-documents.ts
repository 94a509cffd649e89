import { loadAllYaml } from '@kubernetes/client-node';

/**
 * Parses a multi-document YAML stream into objects. Documents holding only
 * comments or whitespace (a trailing `---`, a commented-out block) are
 * dropped first: client-node's loadAllYaml throws on a null document.
 */
export function parseYamlDocuments(text: string): unknown[] {
  const docs = text
    .split(/^---[ \t]*(?:#.*)?$/m)
    .filter((doc) => doc.split('\n').some((line) => line.trim() !== '' && !line.trimStart().startsWith('#')));
  if (docs.length === 0) return [];
  const parsed: unknown[] = loadAllYaml(docs.join('\n---\n'));
  return parsed;
}
