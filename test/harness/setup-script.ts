import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Runs one of the setup scripts in scripts/control-plane/ with bash. Its
 * stderr is progress for the user (passed to `log`); the result is the last
 * line of its stdout, which names what it built or fetched.
 */
export async function runSetupScript(script: string, args: string[], cwd: string, log: (line: string) => void): Promise<string> {
  const child = spawn('bash', [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const stderrLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    log(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`${script} exited with ${code}:\n${stderrLines.slice(-30).join('\n')}`);
  }
  const last = stdout.trim().split('\n').pop()?.trim();
  if (!last) throw new Error(`${script} printed nothing on stdout`);
  return last;
}
