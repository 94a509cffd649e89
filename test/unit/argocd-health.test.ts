// The Argo CD health check (integrations/argocd/health.lua) run by a real
// Lua 5.1 interpreter the way Argo CD runs it: the object as the global `obj`,
// only the base and table libraries (no string library, no string methods),
// and the returned table read as {status, message}.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadYaml } from '@kubernetes/client-node';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const HEALTH_LUA = join(ROOT, 'integrations', 'argocd', 'health.lua');
const ARGOCD_CM = join(ROOT, 'integrations', 'argocd', 'argocd-cm.yaml');
const LUA = process.env.LUA ?? 'lua5.1';

/** Lua source for a JSON-like value (what Argo CD's decodeValue builds from the object). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return luaString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'nil';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaString(k)}] = ${toLua(x)}`).join(', ')}}`;
  }
  throw new Error(`cannot express ${typeof v} in Lua`);
}

function luaString(s: string): string {
  return `"${s.replace(/[\\"\n\r\0]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[c] as string)}"`;
}

// Runs the script once per sample in a sandbox like Argo CD's VM, and prints
// the results as JSON (the harness itself may use the string library).
const HARNESS = String.raw`
local script = assert(loadfile(arg[1]))
local samples = assert(loadfile(arg[2]))()
local function json(v)
  if v == nil then return "null" end
  if type(v) ~= "string" then v = tostring(v) end
  return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end
local safe_os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime }
local out = {}
for i = 1, samples.n do
  local env = {
    obj = samples[i], assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
    select = select, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, rawget = rawget,
    rawset = rawset, rawequal = rawequal, setmetatable = setmetatable, getmetatable = getmetatable,
    table = table, os = safe_os,
  }
  env._G = env
  setfenv(script, env)
  -- Without Argo CD's string library there are no string methods either.
  local string_mt = getmetatable("")
  local string_index = string_mt.__index
  string_mt.__index = nil
  local ok, result = pcall(script)
  string_mt.__index = string_index
  if not ok then
    out[#out + 1] = '{"error":' .. json(result) .. '}'
  elseif type(result) ~= "table" then
    out[#out + 1] = '{"error":' .. json("returned a " .. type(result)) .. '}'
  else
    out[#out + 1] = '{"status":' .. json(result.status) .. ',"message":' .. json(result.message) .. '}'
  end
end
io.write("[" .. table.concat(out, ",") .. "]")
`;

const work = mkdtempSync(join(tmpdir(), 'argocd-health-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Health {
  status?: string | null;
  message?: string | null;
  error?: string;
}

function runHealth(objects: unknown[], script = HEALTH_LUA): Health[] {
  const harness = join(work, 'harness.lua');
  const samples = join(work, 'samples.lua');
  writeFileSync(harness, HARNESS);
  writeFileSync(samples, `return { n = ${objects.length}, ${objects.map(toLua).join(',\n')} }\n`);
  return JSON.parse(execFileSync(LUA, [harness, script, samples], { encoding: 'utf8', timeout: 10_000 })) as Health[];
}

const health = (obj: unknown): Health => runHealth([obj])[0] as Health;

const condition = (type: string, status: string, message: string) => ({ type, status, reason: 'R', message, lastTransitionTime: '2025-03-01T12:00:00Z' });

/** A CanaryRelease as Argo CD sees it live: metadata, the whole spec (arrays included) and a status. */
function release(status: Record<string, unknown> | undefined, generation = 3): Record<string, unknown> {
  return {
    apiVersion: 'canary-operator.dev/v1alpha1',
    kind: 'CanaryRelease',
    metadata: { name: 'reviews', namespace: 'bookinfo', generation, annotations: { 'canary-operator.dev/promote': 'p "1"\n' } },
    spec: {
      service: 'reviews',
      virtualService: { name: 'reviews' },
      destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' },
      canary: { subset: 'v2' },
      steps: [{ weight: 10, duration: '1m' }, { weight: 100 }],
      paused: false,
    },
    ...(status ? { status } : {}),
  };
}

const phase = (p: string, message?: string, extra: Record<string, unknown> = {}) =>
  release({
    phase: p,
    ...(message !== undefined ? { message } : {}),
    observedGeneration: 3,
    conditions: [condition('SpecValid', 'True', 'The spec is valid'), condition('Progressing', 'True', 'x')],
    ...extra,
  });

describe('Argo CD health of a CanaryRelease (health.lua on Lua 5.1)', () => {
  it('runs on Lua 5.1, the language version of Argo CD\'s gopher-lua', () => {
    const v = spawnSync(LUA, ['-v'], { encoding: 'utf8' });
    expect(`${v.stdout}${v.stderr}`).toMatch(/^Lua 5\.1/);
  });

  it.each([
    ['Succeeded', 'Healthy', 'Promoted on request: 100% of traffic to v2'],
    ['Pending', 'Progressing', 'Waiting for the canary workload: Deployment reviews-v2 0/1 available'],
    ['Progressing', 'Progressing', 'Step 1/2: 10% of traffic to v2 for 1m; next step after 2025-03-01T12:01:00.000Z'],
    ['Paused', 'Suspended', 'Paused at step 1/2 with 10% of traffic on v2; set spec.paused to false to resume'],
    ['RolledBack', 'Degraded', 'Aborted on request at 10%: traffic back to 100% v1'],
    ['Failed', 'Degraded', 'The canary workload did not become available within 10m'],
  ])('phase %s is %s with status.message as the message', (p, status, message) => {
    expect(health(phase(p, message))).toEqual({ status, message });
  });

  it('is Suspended when analysis paused the release too', () => {
    expect(health(phase('Paused', 'error rate 7% > 1%: paused at 10% on v2', { pausedBy: 'analysis' }))).toEqual({
      status: 'Suspended', message: 'error rate 7% > 1%: paused at 10% on v2',
    });
  });

  it('has a message of its own when the status has none', () => {
    expect(health(phase('Succeeded'))).toEqual({ status: 'Healthy', message: 'The canary has all traffic' });
    expect(health(phase('Progressing'))).toEqual({ status: 'Progressing', message: 'Release Progressing' });
    expect(health(phase('Paused', ''))).toEqual({ status: 'Suspended', message: 'Release paused' });
    expect(health(phase('RolledBack')).status).toBe('Degraded');
  });

  it('is Progressing while the operator has not written any status', () => {
    const expected = { status: 'Progressing', message: 'Waiting for canary-operator to report the release status' };
    expect(health(release(undefined))).toEqual(expected);
    expect(health(release({}))).toEqual(expected);
  });

  it('is Progressing while the status is of an older spec generation, whatever its phase', () => {
    expect(health(release({ phase: 'Succeeded', message: 'done', observedGeneration: 2 }, 3))).toEqual({
      status: 'Progressing', message: 'Waiting for canary-operator to observe spec generation 3 (status is of generation 2)',
    });
    expect(health(release({ phase: 'RolledBack', message: 'x' }, 4))).toEqual({
      status: 'Progressing', message: 'Waiting for canary-operator to observe spec generation 4',
    });
    // Caught up (or, oddly, ahead): the phase decides.
    expect(health(release({ phase: 'Succeeded', message: 'done', observedGeneration: 3 }, 3)).status).toBe('Healthy');
    expect(health(release({ phase: 'Succeeded', message: 'done', observedGeneration: 4 }, 3)).status).toBe('Healthy');
  });

  it('is Degraded when SpecValid is False, with the condition message naming the field', () => {
    const invalid = release({
      phase: 'Pending',
      message: 'Invalid spec: spec.steps[1].weight must be greater than the previous step',
      observedGeneration: 3,
      conditions: [
        condition('Progressing', 'False', 'InvalidSpec'),
        condition('SpecValid', 'False', 'spec.steps[1].weight: must be greater than 50 (spec.steps[0].weight)'),
      ],
    });
    expect(health(invalid)).toEqual({ status: 'Degraded', message: 'spec.steps[1].weight: must be greater than 50 (spec.steps[0].weight)' });
    const noMessage = release({ phase: 'Pending', message: 'Invalid spec', observedGeneration: 3, conditions: [condition('SpecValid', 'False', '')] });
    expect(health(noMessage)).toEqual({ status: 'Degraded', message: 'Invalid spec' });
  });

  it('is Degraded when a finished release\'s route was changed afterwards (RouteInSync False)', () => {
    const drifted = release({
      phase: 'Succeeded',
      message: 'Succeeded, but the route was changed after the release: route "primary": v1 100%, v2 0%',
      observedGeneration: 3,
      conditions: [condition('RouteInSync', 'False', 'The route was changed after the release ended')],
    });
    expect(health(drifted)).toEqual({ status: 'Degraded', message: 'Succeeded, but the route was changed after the release: route "primary": v1 100%, v2 0%' });
    const inSync = release({ phase: 'Succeeded', message: 'done', observedGeneration: 3, conditions: [condition('RouteInSync', 'True', 'in sync')] });
    expect(health(inSync).status).toBe('Healthy');
  });

  it('is not misled by SpecValid True, Unknown or other False conditions', () => {
    const r = phase('Progressing', 'moving', {
      conditions: [condition('SpecValid', 'Unknown', ''), condition('CanaryAvailable', 'False', 'not available')],
    });
    expect(health(r)).toEqual({ status: 'Progressing', message: 'moving' });
  });

  it('is Unknown for a phase it does not know, and Progressing without a phase', () => {
    expect(health(phase('Exploded', 'boom'))).toEqual({ status: 'Unknown', message: 'Unknown phase Exploded' });
    expect(health(release({ observedGeneration: 3, conditions: [] }))).toEqual({ status: 'Progressing', message: 'Waiting for canary-operator to start the release' });
  });

  it('works without metadata.generation', () => {
    const r = phase('Succeeded', 'done');
    delete (r.metadata as { generation?: number }).generation;
    expect(health(r).status).toBe('Healthy');
  });

  it('returns only statuses Argo CD accepts, for every sample in one run', () => {
    const results = runHealth([release(undefined), phase('Succeeded', 'a'), phase('Paused', 'b'), phase('Failed', 'c'), phase('Weird', 'd')]);
    expect(results.map((r) => r.status)).toEqual(['Progressing', 'Healthy', 'Suspended', 'Degraded', 'Unknown']);
    for (const r of results) expect(['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown']).toContain(r.status);
  });

  it('is installed verbatim by the argocd-cm snippet, under the group_kind key', () => {
    const cm = loadYaml(readFileSync(ARGOCD_CM, 'utf8')) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.metadata.name).toBe('argocd-cm');
    const script = cm.data['resource.customizations.health.canary-operator.dev_CanaryRelease'];
    expect(script).toBe(readFileSync(HEALTH_LUA, 'utf8'));
    const fromCm = join(work, 'from-cm.lua');
    writeFileSync(fromCm, script as string);
    expect(runHealth([phase('RolledBack', 'Aborted')], fromCm)).toEqual([{ status: 'Degraded', message: 'Aborted' }]);
  });

  it('the sandbox really has no string library (a script using it fails)', () => {
    const bad = join(work, 'bad.lua');
    writeFileSync(bad, 'return { status = "Healthy", message = string.upper("x") }');
    expect(runHealth([{}], bad)[0]?.error).toMatch(/string/);
    writeFileSync(bad, 'local s = "x"; return { status = "Healthy", message = s:upper() }');
    expect(runHealth([{}], bad)[0]?.error).toBeDefined();
  });
});

describe('toLua', () => {
  it('writes JSON values as Lua table constructors, escaping strings', () => {
    expect(toLua({ a: [1, 'x"y\n'], b: { c: true, d: null } })).toBe('{["a"] = {1, "x\\"y\\n"}, ["b"] = {["c"] = true, ["d"] = nil}}');
  });
});
