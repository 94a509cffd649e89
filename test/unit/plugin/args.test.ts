import { describe, expect, it } from '@jest/globals';
import { DEFAULT_WAIT_TIMEOUT_MS, parseArgs, parseTimeout } from '../../../src/plugin/args.js';
import { UsageError } from '../../../src/plugin/errors.js';

describe('parseArgs', () => {
  it('reads a command, a release and flags in any order, in every spelling kubectl users type', () => {
    expect(parseArgs(['status', 'reviews', '-n', 'bookinfo'])).toEqual({
      command: 'status', name: 'reviews', namespace: 'bookinfo', allNamespaces: false, timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, plain: false,
    });
    expect(parseArgs(['-n', 'bookinfo', 'status', 'reviews']).namespace).toBe('bookinfo');
    expect(parseArgs(['status', 'reviews', '--namespace=bookinfo']).namespace).toBe('bookinfo');
    expect(parseArgs(['status', 'reviews', '--namespace', 'bookinfo']).namespace).toBe('bookinfo');
    expect(parseArgs(['status', 'reviews', '-n=bookinfo']).namespace).toBe('bookinfo');
    expect(parseArgs(['status', 'reviews', '-nbookinfo']).namespace).toBe('bookinfo');
    expect(parseArgs(['promote', 'reviews', '--kubeconfig', '/tmp/kc', '--context=prod'])).toMatchObject({
      command: 'promote', name: 'reviews', kubeconfig: '/tmp/kc', context: 'prod',
    });
  });

  it('takes the command-specific flags only where they mean something', () => {
    expect(parseArgs(['wait', 'reviews', '--timeout', '90s']).timeoutMs).toBe(90_000);
    expect(parseArgs(['wait', 'reviews', '--timeout=1h30m']).timeoutMs).toBe(5_400_000);
    expect(parseArgs(['wait', 'reviews']).timeoutMs).toBe(600_000);
    expect(parseArgs(['watch', 'reviews', '--plain']).plain).toBe(true);
    expect(parseArgs(['list', '-A'])).toMatchObject({ command: 'list', allNamespaces: true });
    expect(parseArgs(['list', '--all-namespaces']).allNamespaces).toBe(true);
    expect(() => parseArgs(['status', 'reviews', '--timeout', '1m'])).toThrow('--timeout is only for wait');
    expect(() => parseArgs(['status', 'reviews', '--plain'])).toThrow('--plain is only for watch');
    expect(() => parseArgs(['status', 'reviews', '-A'])).toThrow('-A/--all-namespaces is only for list');
    expect(() => parseArgs(['list', '-A', '-n', 'x'])).toThrow('either -n/--namespace or -A/--all-namespaces');
  });

  it('answers help for -h, --help and help, wherever they are', () => {
    expect(parseArgs(['-h']).command).toBe('help');
    expect(parseArgs(['status', 'reviews', '--help']).command).toBe('help');
    expect(parseArgs(['help']).command).toBe('help');
    expect(parseArgs(['bogus', '--help']).command).toBe('help');
  });

  it.each([
    [[], 'no command given'],
    [['frobnicate', 'reviews'], 'unknown command "frobnicate"'],
    [['status'], 'status needs the name of a CanaryRelease'],
    [['wait'], 'wait needs the name of a CanaryRelease'],
    [['status', 'a', 'b'], 'status takes one release name; unexpected "b"'],
    [['list', 'reviews'], 'list takes no release name'],
    [['status', 'reviews', '--verbose'], 'unknown flag --verbose'],
    [['status', 'reviews', '-n'], '-n needs a value'],
    [['status', 'reviews', '-n', '--context', 'x'], '-n needs a value'],
    [['status', 'reviews', '--namespace='], '--namespace needs a value'],
    [['watch', 'reviews', '--plain=yes'], '--plain takes no value'],
    [['wait', 'reviews', '--timeout', 'soon'], '--timeout: "soon" is not a duration'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('reads timeouts as Go durations, or bare seconds', () => {
    expect(parseTimeout('10m')).toBe(600_000);
    expect(parseTimeout('45')).toBe(45_000);
    expect(parseTimeout('500ms')).toBe(500);
    expect(() => parseTimeout('-1s')).toThrow(UsageError);
  });

  it('treats everything after -- as positional', () => {
    expect(parseArgs(['status', '--', 'reviews'])).toMatchObject({ command: 'status', name: 'reviews' });
  });
});
