// The objects of one benchmark release: its Service, Deployments v1 and v2
// (status written by the benchmark: no kubelet runs), DestinationRule,
// VirtualService (100% on v1, v2 declared at 0 as in git) and the
// CanaryRelease: steps 10% / 50% / 100 of 30 s, gates every 30 s. A bad
// canary's v2 carries the simulator's annotations for 20% 503s.
import { ANNOTATIONS } from '../../tools/mesh-simulator/behaviour.js';

export interface ReleaseFixture {
  index: number;
  namespace: string;
  /** The release, Service, VirtualService and DestinationRule name. */
  name: string;
  /** Its canary answers 20% 503s: it must be rolled back. */
  bad: boolean;
}

export const STEP_DURATIONS_MS = [30_000, 30_000];
export const INTERVAL = '30s';
export const WINDOW = '30s';
export const BAD_ERROR_RATE = 0.2;

export function releaseFixtures(count: number, namespaces: number, badEvery: number): ReleaseFixture[] {
  const width = Math.max(4, String(count - 1).length);
  return Array.from({ length: count }, (_, index) => ({
    index,
    namespace: `scale-${index % namespaces}`,
    name: `svc-${String(index).padStart(width, '0')}`,
    bad: (index + 1) % badEvery === 0,
  }));
}

/** Headless: the local control plane's service range (a /24) has no room for 1,000 cluster IPs, and nothing here routes to them. */
export function serviceBody(f: ReleaseFixture) {
  return { metadata: { name: f.name }, spec: { clusterIP: 'None', selector: { app: f.name }, ports: [{ name: 'http', port: 9080 }] } };
}

export function deploymentBody(f: ReleaseFixture, version: 'v1' | 'v2') {
  const labels = { app: f.name, version };
  const annotations = version === 'v2' && f.bad ? { [ANNOTATIONS.errorRate]: String(BAD_ERROR_RATE), [ANNOTATIONS.errorCode]: '503' } : undefined;
  return {
    metadata: { name: `${f.name}-${version}`, labels, ...(annotations ? { annotations } : {}) },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `example.invalid/${f.name}:${version}` }] } } },
  };
}

export const AVAILABLE_STATUS = { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: 1 } };

export function destinationRuleBody(f: ReleaseFixture) {
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: f.name },
    spec: { host: f.name, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
  };
}

export function virtualServiceBody(f: ReleaseFixture) {
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: f.name },
    spec: { hosts: [f.name], http: [{ name: 'primary', route: [{ destination: { host: f.name, subset: 'v1' }, weight: 100 }, { destination: { host: f.name, subset: 'v2' }, weight: 0 }] }] },
  };
}

export function canaryReleaseBody(f: ReleaseFixture, failureLimit: number) {
  return {
    apiVersion: 'canary-operator.dev/v1alpha1', kind: 'CanaryRelease', metadata: { name: f.name },
    spec: {
      service: f.name, virtualService: { name: f.name }, destinationRule: { name: f.name },
      stable: { subset: 'v1' }, canary: { subset: 'v2' },
      steps: [{ weight: 10, duration: '30s' }, { weight: 50, duration: '30s' }, { weight: 100 }],
      analysis: {
        interval: INTERVAL, window: WINDOW, failureLimit,
        gates: [
          { name: 'errors', errorRate: { max: '5%' } },
          { name: 'p99', latency: { percentile: 99, maxMs: 500 } },
          { name: 'vs-stable', errorRate: { maxIncreaseOverStable: '1%' } },
        ],
      },
    },
  };
}
