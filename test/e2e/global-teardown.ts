import type { ControlPlane } from '../harness/control-plane.js';

/** Stops the control plane global-setup started (nothing for an external cluster). */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __canaryE2eControlPlane?: ControlPlane };
  const cp = g.__canaryE2eControlPlane;
  delete g.__canaryE2eControlPlane;
  await cp?.stop();
}
