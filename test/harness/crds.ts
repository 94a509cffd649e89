import { readFile } from 'node:fs/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  V1CustomResourceDefinition,
  type KubeConfig,
} from '@kubernetes/client-node';
import { parseYamlDocuments } from './yaml-documents.js';

/** Reads CRDs from YAML files; anything else in them is an error, not silently skipped. */
export async function readCrdFiles(files: readonly string[]): Promise<V1CustomResourceDefinition[]> {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    for (const doc of parseYamlDocuments(await readFile(file, 'utf8'))) {
      if (!(doc instanceof V1CustomResourceDefinition) || !doc.metadata?.name) {
        const { apiVersion, kind } = (doc ?? {}) as { apiVersion?: unknown; kind?: unknown };
        throw new Error(
          `${file}: expected only named apiextensions.k8s.io/v1 CustomResourceDefinitions, found ${String(apiVersion)} ${String(kind)}`,
        );
      }
      crds.push(doc);
    }
  }
  return crds;
}

const isStatus = (err: unknown, code: number) => err instanceof ApiException && err.code === code;

/** Creates each CRD, or replaces it when it already exists (a reused external cluster). */
export async function applyCrds(kc: KubeConfig, crds: readonly V1CustomResourceDefinition[]): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata!.name!;
      try {
        await api.createCustomResourceDefinition({ body: crd, fieldValidation: 'Strict' });
        return;
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
      // Replace needs the live resourceVersion; retry if someone else wrote in between.
      for (let attempt = 0; ; attempt++) {
        const live = await api.readCustomResourceDefinition({ name });
        const body = { ...crd, metadata: { ...crd.metadata, resourceVersion: live.metadata?.resourceVersion } };
        try {
          await api.replaceCustomResourceDefinition({ name, body, fieldValidation: 'Strict' });
          return;
        } catch (err) {
          if (!isStatus(err, 409) || attempt >= 3) throw err;
        }
      }
    }),
  );
}

/** Waits until every named CRD has Established=True, i.e. its REST endpoints serve. */
export async function waitForCrdsEstablished(kc: KubeConfig, names: readonly string[], timeoutMs = 60_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  let lastConditions = '';
  while (pending.length > 0) {
    const states = await Promise.all(
      pending.map(async (name) => {
        const crd = await api.readCustomResourceDefinition({ name });
        const conditions = crd.status?.conditions ?? [];
        const established = conditions.some((c) => c.type === 'Established' && c.status === 'True');
        return { name, established, conditions };
      }),
    );
    pending = states.filter((s) => !s.established).map((s) => s.name);
    if (pending.length === 0) return;
    lastConditions = states
      .filter((s) => !s.established)
      .map((s) => `${s.name}: ${s.conditions.map((c) => `${c.type}=${c.status} ${c.message ?? ''}`).join('; ') || 'no conditions'}`)
      .join('\n');
    if (Date.now() > deadline) throw new Error(`CRDs not established after ${timeoutMs} ms:\n${lastConditions}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
