// A summary of a V8 .cpuprofile (node --cpu-prof): self time by function and
// by where the code lives (our src/, a package in node_modules, Node's own
// modules, the garbage collector), so a run says where the CPU went.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: SelfTime[];
  byLocation: SelfTime[];
}

/** Where a function lives: src/<dir>, <package>, node:<module>, or V8's pseudo-frames such as (garbage collector). */
export function locationOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/dist\/(src\/[^/]+)/.exec(url);
  if (own) return own[1]!;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byLocation = new Map<string, number>();
  let totalMs = 0;
  // timeDeltas[i] is the time since the previous sample; it is spent in samples[i - 1]'s frame.
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = nodes.get(profile.samples[i]!);
    if (!node || ms <= 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const loc = locationOf(url, functionName);
    byLocation.set(loc, (byLocation.get(loc) ?? 0) + ms);
    totalMs += ms;
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms).slice(0, top);
  return { totalMs, byFunction: sorted(byFunction), byLocation: sorted(byLocation) };
}

/** The one .cpuprofile a process wrote into `dir`. */
export async function readProfile(dir: string): Promise<CpuProfile | undefined> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  return JSON.parse(await readFile(join(dir, files.sort().at(-1)!), 'utf8')) as CpuProfile;
}
