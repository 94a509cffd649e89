import { register } from 'node:module';
import type { ControlPlane } from '../harness/control-plane.js';

type Harness = typeof import('../harness/control-plane.js');

/** Starts one control plane for the whole e2e run; workers inherit its kubeconfig through the environment. */
export default async function globalSetup(): Promise<void> {
  // jest loads this file with plain Node, outside its module system, where the
  // harness's './x.js' imports of .ts files do not resolve: this loader
  // transpiles them on the fly. (Only type imports above: they are erased.)
  register('../harness/ts-loader.mjs', import.meta.url);
  const harness = (await import(new URL('../harness/control-plane.js', import.meta.url).href)) as Harness;
  const log = (line: string) => process.stderr.write(`[control-plane] ${line}\n`);
  const cp = await harness.startControlPlane({ log });
  // globalTeardown runs in this same process but as a separate module.
  (globalThis as { __canaryE2eControlPlane?: ControlPlane }).__canaryE2eControlPlane = cp;
  // Set before jest spawns its workers, which inherit this environment.
  process.env.KUBECONFIG = cp.kubeconfigPath;
  process.env.CANARY_E2E_KUBECONFIG = cp.kubeconfigPath;
  log(`e2e tests run against kube-apiserver ${cp.serverVersion} at ${cp.server}${cp.external ? ' (external cluster)' : ''}`);
}
