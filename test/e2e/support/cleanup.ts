// Before each e2e file: operators that an earlier file's failed test left
// running are stopped, so they cannot reconcile this file's releases (they
// watch every namespace), and one failure does not turn into several.
import { beforeAll } from '@jest/globals';
import { stopLeftoverOperators } from './operator-process.js';

beforeAll(() => {
  const stopped = stopLeftoverOperators();
  if (stopped > 0) process.stdout.write(`[e2e] stopped ${stopped} operator(s) an earlier test file left running\n`);
});
