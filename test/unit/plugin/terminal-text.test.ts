// Hostile text in status, Events, annotations and API errors never reaches
// the terminal as control characters or escape sequences.
import { describe, expect, it } from '@jest/globals';
import { main } from '../../../src/plugin/main.js';
import type { ReleaseEvent, ReleaseObject } from '../../../src/plugin/release-api.js';
import { terminalSafe } from '../../../src/plugin/terminal-text.js';
import { FakeApi, FakeIo, NOW, progressing, withStatus } from './fixtures.js';

const ESC = '\x1b';
const HOSTILE = {
  clearScreen: `${ESC}[2J${ESC}[H`,
  osc52Clipboard: `${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07`,
  oscTitleSt: `${ESC}]0;pwned${ESC}\\`,
  bell: '\x07',
  carriageReturnOverwrite: 'rolled back\rSucceeded  ',
  bidiOverride: 'v2\u202e1v\u202c',
  c1Csi: '\x9b2J',
  color: `${ESC}[31mred${ESC}[0m`,
  newline: 'line one\nPhase:       Succeeded',
};
const DANGEROUS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]/;

describe('terminalSafe', () => {
  it.each([
    [HOSTILE.clearScreen + 'ok', 'ok'],
    [`copy ${HOSTILE.osc52Clipboard}this`, 'copy this'],
    [`title ${HOSTILE.oscTitleSt}set`, 'title set'],
    [`ding${HOSTILE.bell}`, 'ding'],
    [HOSTILE.carriageReturnOverwrite, 'rolled backSucceeded  '],
    [HOSTILE.bidiOverride, 'v21v'],
    [`${HOSTILE.c1Csi}x`, '2Jx'],
    [HOSTILE.color, 'red'],
    ['tab\there', 'tab here'],
    [HOSTILE.newline, 'line one Phase:       Succeeded'],
    [`unterminated ${ESC}]52;c;AAAA`, 'unterminated '],
    ['plain text, 50% to v2 (5xx <= 1%) ünïcødé ✓', 'plain text, 50% to v2 (5xx <= 1%) ünïcødé ✓'],
  ])('%j -> %j', (input, output) => {
    expect(terminalSafe(input)).toBe(output);
  });

  it('keeps newlines only when asked, still dropping \\r', () => {
    expect(terminalSafe('a\r\nb\nc', { keepNewlines: true })).toBe('a\nb\nc');
  });
});

describe('the plugin output with hostile server text', () => {
  const hostileText = Object.values(HOSTILE).join(' | ');
  const release = (): ReleaseObject => {
    const r = withStatus({
      message: hostileText,
      conditions: [{ type: 'Progressing', status: 'True', reason: `Step${HOSTILE.bell}`, message: hostileText, lastTransitionTime: NOW.toISOString() }],
      canarySubset: `v2${HOSTILE.clearScreen}`,
    } as Partial<NonNullable<ReleaseObject['status']>>, progressing());
    r.metadata.annotations = { 'canary-operator.dev/promote': `x${HOSTILE.osc52Clipboard}` };
    return r;
  };
  const hostileEvents = (): ReleaseEvent[] => [
    { metadata: { name: 'e1' }, type: 'Warning', reason: `Bad${HOSTILE.color}`, message: hostileText, lastTimestamp: NOW, count: 1 },
  ];
  const run = async (argv: string[], api: FakeApi, io = new FakeIo()) => {
    // watch and wait poll: stop them after a few rounds whatever happens.
    const stop = new AbortController();
    io.onSleep = (x) => x.sleeps.length >= 3 && stop.abort();
    const code = await main(argv, { io, signal: stop.signal, connect: () => ({ api, namespace: 'bookinfo' }) });
    return { code, io };
  };
  const ended = () => {
    const r = withStatus({ phase: 'Succeeded', message: hostileText }, release());
    r.status!.handledRequests = { promote: r.metadata.annotations!['canary-operator.dev/promote']! };
    return r;
  };

  it.each([
    [['status', 'reviews']],
    [['list']],
    [['watch', 'reviews', '--plain']],
    [['promote', 'reviews']],
    [['wait', 'reviews', '--timeout', '1s']],
  ])('%j prints no escape sequence, control character or bidi override', async (argv) => {
    const api = new FakeApi(release(), ended());
    api.eventList = hostileEvents();
    const { io } = await run(argv, api);
    const printed = [...io.stdout, ...io.stderr].join('\n');
    expect(printed.length).toBeGreaterThan(0);
    for (const line of printed.split('\n')) expect(line).not.toMatch(DANGEROUS);
    // Server newlines do not become lines of their own (no fake "Phase:" line).
    expect(printed).not.toMatch(/^\s*Phase:\s+Succeeded$/m);
  });

  it('an API error body with escape sequences is printed safely', async () => {
    const err = Object.assign(new Error(`HTTP-Code: 500${HOSTILE.clearScreen}`), { code: 500, body: JSON.stringify({ kind: 'Status', message: `etcd ${HOSTILE.osc52Clipboard}down\nPhase: ok` }) });
    const { code, io } = await run(['status', 'reviews'], new FakeApi(err));
    expect(code).toBe(2);
    expect(io.err_).toContain('etcd down');
    for (const line of io.err_.split('\n')) expect(line).not.toMatch(DANGEROUS);
    expect(io.err_.split('\n')).toHaveLength(1);
  });

  it('a redrawing watch keeps its own screen clear, and only that', async () => {
    const io = new FakeIo();
    io.isTTY = true;
    await run(['watch', 'reviews'], new FakeApi(release(), ended()), io);
    const first = io.stdout[0] ?? '';
    expect(first.startsWith(`${ESC}[H${ESC}[2J`)).toBe(true);
    expect(first.slice(`${ESC}[H${ESC}[2J`.length)).not.toMatch(DANGEROUS);
  });
});
