// kube-apiserver's audit log (JSON lines, level Metadata) as requests: one
// per auditID (a watch is logged when its response starts and again when it
// ends), with who sent it, what it did to what, and when.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseTime } from './distribution.js';

export interface AuditRequest {
  id: string;
  user: string;
  verb: string;
  /** resource[/subresource] (e.g. canaryreleases/status), or the path of a non-resource request (e.g. /apis). */
  resource: string;
  namespace?: string;
  name?: string;
  code?: number;
  /** Epoch ms when the apiserver received it. */
  receivedAt: number;
  /** Epoch ms when its response completed; undefined for a watch still open when the log was read. */
  completedAt?: number;
}

interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

function resourceOf(e: AuditEvent): string {
  const ref = e.objectRef;
  if (ref?.resource) return ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  return (e.requestURI ?? '?').split('?')[0]!;
}

/** Requests from audit lines; lines that are not audit events are skipped. */
export function parseAuditLines(lines: Iterable<string>): AuditRequest[] {
  const byId = new Map<string, AuditRequest>();
  for (const line of lines) {
    if (!line.trim()) continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    if (!e.auditID || !e.verb) continue;
    let r = byId.get(e.auditID);
    if (!r) {
      r = { id: e.auditID, user: e.user?.username ?? '', verb: e.verb, resource: resourceOf(e), receivedAt: parseTime(e.requestReceivedTimestamp) };
      if (e.objectRef?.namespace) r.namespace = e.objectRef.namespace;
      if (e.objectRef?.name) r.name = e.objectRef.name;
      byId.set(e.auditID, r);
    }
    if (e.responseStatus?.code !== undefined) r.code = e.responseStatus.code;
    if (e.stage === 'ResponseComplete' || e.stage === 'Panic') r.completedAt = parseTime(e.stageTimestamp);
  }
  return [...byId.values()].sort((a, b) => a.receivedAt - b.receivedAt);
}

export async function readAuditLog(path: string): Promise<AuditRequest[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) lines.push(line);
  return parseAuditLines(lines);
}

/** "verb resource" -> count, for one user's requests received in [from, to). */
export function countByVerbAndResource(requests: readonly AuditRequest[], user: string, from: number, to: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    if (r.user !== user || r.receivedAt < from || r.receivedAt >= to) continue;
    const key = `${r.verb} ${r.resource}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** When each matching object was last written successfully by `user` (completion time), keyed namespace/name. */
export function lastWrites(requests: readonly AuditRequest[], user: string, verb: string, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of requests) {
    if (r.user !== user || r.verb !== verb || r.resource !== resource || r.completedAt === undefined) continue;
    if (r.code !== undefined && (r.code < 200 || r.code > 299)) continue;
    const key = `${r.namespace ?? ''}/${r.name ?? ''}`;
    out.set(key, Math.max(out.get(key) ?? Number.NEGATIVE_INFINITY, r.completedAt));
  }
  return out;
}

/** Completion times of successful writes by `user` to one object, in order. */
export function writesTo(requests: readonly AuditRequest[], user: string, verb: string, resource: string, namespace: string, name: string): number[] {
  return requests
    .filter((r) => r.user === user && r.verb === verb && r.resource === resource && r.namespace === namespace && r.name === name && r.completedAt !== undefined && (r.code === undefined || (r.code >= 200 && r.code <= 299)))
    .map((r) => r.completedAt!)
    .sort((a, b) => a - b);
}
