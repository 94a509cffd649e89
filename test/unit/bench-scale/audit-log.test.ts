import { describe, expect, test } from '@jest/globals';
import { countByVerbAndResource, lastWrites, parseAuditLines } from '../../../bench/scale/audit-log.js';

const event = (e: Record<string, unknown>) => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', ...e });
const op = { user: { username: 'op', groups: ['system:masters'] } };

const lines = [
  event({ ...op, auditID: 'w', stage: 'ResponseStarted', verb: 'watch', requestURI: '/apis/x', objectRef: { resource: 'canaryreleases' }, requestReceivedTimestamp: '2026-01-01T00:00:00.000001Z', stageTimestamp: '2026-01-01T00:00:00.001Z' }),
  event({ ...op, auditID: 's1', stage: 'ResponseComplete', verb: 'update', objectRef: { resource: 'canaryreleases', subresource: 'status', namespace: 'a', name: 'r' }, responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-01-01T00:00:01Z', stageTimestamp: '2026-01-01T00:00:01.010Z' }),
  event({ ...op, auditID: 'p1', stage: 'ResponseComplete', verb: 'patch', objectRef: { resource: 'virtualservices', namespace: 'a', name: 'r' }, responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-01-01T00:00:02Z', stageTimestamp: '2026-01-01T00:00:02.020Z' }),
  event({ ...op, auditID: 'p2', stage: 'ResponseComplete', verb: 'patch', objectRef: { resource: 'virtualservices', namespace: 'a', name: 'r' }, responseStatus: { code: 409 }, requestReceivedTimestamp: '2026-01-01T00:00:03Z', stageTimestamp: '2026-01-01T00:00:03.020Z' }),
  event({ user: { username: 'admin' }, auditID: 'c1', stage: 'ResponseComplete', verb: 'create', objectRef: { resource: 'canaryreleases', namespace: 'a', name: 'r' }, responseStatus: { code: 201 }, requestReceivedTimestamp: '2026-01-01T00:00:00.5Z', stageTimestamp: '2026-01-01T00:00:00.6Z' }),
  event({ ...op, auditID: 'd', stage: 'ResponseComplete', verb: 'get', requestURI: '/apis?timeout=32s', requestReceivedTimestamp: '2026-01-01T00:00:04Z', stageTimestamp: '2026-01-01T00:00:04Z' }),
  event({ ...op, auditID: 'w', stage: 'ResponseComplete', verb: 'watch', requestURI: '/apis/x', objectRef: { resource: 'canaryreleases' }, requestReceivedTimestamp: '2026-01-01T00:00:00.000001Z', stageTimestamp: '2026-01-01T00:10:00Z' }),
  'not json',
];
const t = (s: string) => Date.parse(`2026-01-01T00:00:0${s}Z`);

describe('audit log', () => {
  test('turns events into one request per auditID, a watch included once', () => {
    const requests = parseAuditLines(lines);
    expect(requests.map((r) => r.id)).toEqual(['w', 'c1', 's1', 'p1', 'p2', 'd']);
    const watch = requests[0]!;
    expect(watch).toMatchObject({ user: 'op', verb: 'watch', resource: 'canaryreleases', completedAt: Date.parse('2026-01-01T00:10:00Z') });
    expect(requests.find((r) => r.id === 's1')).toMatchObject({ resource: 'canaryreleases/status', namespace: 'a', name: 'r', code: 200 });
    expect(requests.find((r) => r.id === 'd')!.resource).toBe('/apis');
  });

  test('counts one user\'s requests by verb and resource within a window', () => {
    const requests = parseAuditLines(lines);
    expect([...countByVerbAndResource(requests, 'op', t('1'), t('4'))]).toEqual([
      ['patch virtualservices', 2],
      ['update canaryreleases/status', 1],
    ]);
    expect(countByVerbAndResource(requests, 'op', 0, t('9')).get('watch canaryreleases')).toBe(1);
  });

  test('finds the last successful write of each object', () => {
    expect(lastWrites(parseAuditLines(lines), 'op', 'patch', 'virtualservices')).toEqual(new Map([['a/r', Date.parse('2026-01-01T00:00:02.020Z')]]));
  });
});
