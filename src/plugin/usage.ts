// The help text of `kubectl canary`.
import { REQUEST_ANNOTATIONS } from '../api/names.js';

export const USAGE = `kubectl canary - watch and steer canary-operator CanaryReleases

Usage:
  kubectl canary status NAME       Phase, step, stable/canary weights, message, conditions,
                                   analysis gates (value, threshold, verdict) and recent Events
  kubectl canary watch NAME        Redraw the status every second until the release ends
                                   (Ctrl-C stops); --plain prints only changes, one line each
  kubectl canary list [-A]         The releases of the namespace (-A: of all namespaces)
  kubectl canary wait NAME [--timeout 10m]
                                   Wait until the release ends and say why: exit 0 Succeeded,
                                   1 RolledBack or Failed, 2 timeout or error, 3 ended without a
                                   verdict (no conclusive data or no metrics for too long)
  kubectl canary pause NAME        Set spec.paused to true: the weights freeze where they are
  kubectl canary resume NAME       Set spec.paused to false; a release that analysis paused
                                   gets the ${REQUEST_ANNOTATIONS.resume} annotation instead
  kubectl canary promote NAME      All traffic to the canary now (${REQUEST_ANNOTATIONS.promote})
  kubectl canary abort NAME        All traffic back to stable, phase RolledBack (${REQUEST_ANNOTATIONS.abort})
  kubectl canary retry NAME        Run a RolledBack or Failed release again from its first step
                                   (${REQUEST_ANNOTATIONS.retry})

Flags:
  -n, --namespace NS        Namespace (default: the kubeconfig context's namespace, else "default")
  -A, --all-namespaces      list: releases of every namespace
      --kubeconfig FILE     Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME        Kubeconfig context to use
      --timeout DURATION    wait: give up after this long (default 10m; e.g. 90s, 5m, 1h30m)
      --plain               watch: print one line per change instead of redrawing
                            (the default when the output is not a terminal)
  -h, --help                Show this help

Each action is one merge patch of the release:
  promote, abort, retry (and resume after an analysis pause) set the annotation
  canary-operator.dev/<action> to a new unique value (time + random). The operator acts
  once per distinct value, records it in status.handledRequests and never writes the
  annotation back, so Argo CD and Flux see no drift and a re-sync repeats nothing.
  pause and resume change spec.paused, which is a spec field: with GitOps auto-sync the
  value in git wins and the next sync reverts it. To pause a release managed from git,
  commit spec.paused: true (and false to resume) instead.

Exit codes:
  0  done; wait and watch: the release Succeeded
  1  wait and watch: the release RolledBack or Failed
  2  usage error, API error (such as a release that does not exist) or wait timeout
`;
