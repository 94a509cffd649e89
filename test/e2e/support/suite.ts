// Jest's per-file lifecycle for the e2e helpers: one operator (or a mesh and
// an operator) started before a file's tests and stopped after them. Kept
// apart from the helpers themselves, which the benchmarks import outside Jest.
import { afterAll, beforeAll, expect } from '@jest/globals';
import { startMeshAndOperator } from './mesh.js';
import { startOperator, type OperatorProcess } from './operator-process.js';

/**
 * One operator for a whole test file: started before its tests, and stopped
 * after them with SIGTERM, which must end it cleanly (exit 0).
 */
export function operatorForSuite(env: Record<string, string> = {}): () => OperatorProcess {
  let op: OperatorProcess | undefined;
  beforeAll(async () => {
    op = startOperator(env);
    await op.ready();
  }, 60_000);
  afterAll(async () => {
    expect(await op?.kill('SIGTERM')).toBe(0);
  });
  return () => {
    if (!op) throw new Error('the suite operator has not started');
    return op;
  };
}

/**
 * The mesh and one operator reading its Prometheus, for a whole test file:
 * `prepare` makes the namespaces (and their behaviour) before traffic starts;
 * both are stopped after the tests, the operator with SIGTERM (exit 0).
 */
export function meshWithOperatorForSuite(prepare: () => Promise<{ namespace: string; rps?: number }[]>): void {
  let stack: Awaited<ReturnType<typeof startMeshAndOperator>> | undefined;
  beforeAll(async () => {
    stack = await startMeshAndOperator(await prepare());
  }, 90_000);
  afterAll(async () => {
    expect(await stack?.stop()).toBe(0);
  });
}
