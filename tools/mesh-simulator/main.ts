#!/usr/bin/env node
// CLI for the mesh simulator; see USAGE in config.ts. Prints one JSON line
// {"event":"ready","port":N,"url":...,"seed":S,"mode":M} on stdout once /metrics is
// served (logs go to stderr), and stops cleanly on SIGTERM/SIGINT.
import { parseCli, USAGE } from './config.js';
import { startSimulator } from './simulator.js';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`mesh-simulator: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sim = await startSimulator(opts);
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: sim.port, url: sim.url, metrics: `${sim.url}/metrics`, seed: sim.seed, mode: sim.mode })}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // A second signal means "now".
  const force = () => process.exit(130);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: `${signal}: stopping` })}\n`);
  await sim.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`mesh-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
