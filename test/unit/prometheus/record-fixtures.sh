#!/usr/bin/env bash
# Re-records the Prometheus response bodies under test/unit/fixtures/prometheus/
# from a real, throwaway Prometheus (Debian's 2.42 at /usr/bin/prometheus) that
# scrapes itself on a free loopback port. Run by hand; the unit tests only read
# the recorded files.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="$root/test/unit/fixtures/prometheus"
tmp="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
addr="127.0.0.1:$port"

cat >"$tmp/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ['$addr'] }]
YAML

/usr/bin/prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="$addr" --log.level=warn >"$tmp/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

for _ in $(seq 100); do curl -sf "http://$addr/-/ready" >/dev/null && break; sleep 0.1; done
# Some API traffic, then a few scrapes, so the self-scraped HTTP histograms
# have several handlers and rate() has two points to work with.
for _ in $(seq 5); do curl -sf "http://$addr/api/v1/query?query=up" >/dev/null; sleep 1; done
sleep 3

# query name -> PromQL. POST form-encoded, as the client sends it; -w keeps the
# status code out of the body, which is saved byte for byte.
record() {
  local name="$1" promql="$2" extra="${3:-}"
  local code
  code="$(curl -s -o "$out/$name.json" -w '%{http_code}' --data-urlencode "query=$promql" ${extra:+--data-urlencode "$extra"} "http://$addr/api/v1/query")"
  echo "$name.json  HTTP $code  $promql"
}

record vector-several 'sum by (quantile) (go_gc_duration_seconds)'
record vector-one 'count(up)'
record vector-empty 'up{job="no-such-job"}'
record vector-nan 'vector(0/0)'
record vector-histogram-quantile 'histogram_quantile(0.99, sum by (handler, le) (rate(prometheus_http_request_duration_seconds_bucket[1m])))'
record vector-istio-shaped 'label_replace(label_replace(label_replace(label_replace(vector(12), "destination_service_namespace", "shop", "", ""), "destination_service_name", "reviews", "", ""), "destination_version", "v2", "", ""), "response_code", "503", "", "") or label_replace(label_replace(label_replace(label_replace(vector(188), "destination_service_namespace", "shop", "", ""), "destination_service_name", "reviews", "", ""), "destination_version", "v2", "", ""), "response_code", "200", "", "")'
record scalar 'scalar(count(up)) * 2'
record scalar-nan '0/0'
record scalar-pos-inf '1/0'
record scalar-neg-inf '-1/0'
record matrix 'up[5s]'
record string '"hello"'
record error-bad-data 'sum(rate(istio_requests_total{reporter="destination"}[1m])'
record error-execution 'go_gc_duration_seconds + on() go_gc_duration_seconds'
# timeout=0s makes Prometheus give up at once: its own errorType "timeout" (503).
record error-timeout 'count(up)' 'timeout=0s'
