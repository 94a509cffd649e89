# syntax=docker/dockerfile:1
# canary-operator image: `docker build -t canary-operator:0.1.0 .`
#
# The runtime stage holds exactly what `npm pack` puts in the package
# (package.json "files": dist/operator.js, dist/src, bin and crds), plus production dependencies
# installed from the lockfile. test/e2e/image-install.test.ts repeats these
# steps outside Docker and starts the result.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY src ./src
COPY crds ./crds
COPY bin ./bin
COPY scripts/bundle-operator.mjs ./scripts/
# Only src/ is in the context, so only dist/src is compiled (tools/ and the
# test harness of tsconfig.build.json are not shipped); then dist/src/main.js
# and what it imports are bundled into dist/operator.js, which the image runs
# (scripts/bundle-operator.mjs says why: 20 MiB less RSS).
RUN npm run build \
 && npm pack --pack-destination /tmp \
 && mkdir /app \
 && tar -xzf /tmp/canary-operator-*.tgz -C /app --strip-components=1 \
 && cp package-lock.json /app/

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="canary-operator" \
      org.opencontainers.image.description="Canary releases on an Istio mesh, gated by Prometheus metrics" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# Memory: a young generation of 2 MiB semi-spaces (V8's default grows to 16)
# and two malloc arenas keep the operator's RSS near its live heap; the
# collector runs more often on short-lived reconcile garbage, which costs
# little CPU. npm run bench:scale runs the operator with these same settings.
ENV NODE_OPTIONS=--max-semi-space-size=2
ENV MALLOC_ARENA_MAX=2
# --heap-growing-percent=20 --optimize-for-size (on the command line:
# NODE_OPTIONS refuses them): after each full collection the old generation
# may grow by a fifth of what survived, not by V8's up to four times, and
# every full collection compacts and gives back what it freed. At 1,000
# releases (bench:scale) the old space otherwise grew to 70 MiB with about
# 50 MiB in use, in half-empty pages that V8 gives back only once the process
# is idle: RSS peak 184 -> 132 MiB, for CPU per release 0.023 -> 0.032 s.
# They bound growth, not the heap: there is no cap to run out of.
# --disable-warning=DEP0040: node-fetch's URL code (inside the bundle, so no
# longer under node_modules) requires Node's deprecated punycode module, and
# Node 22 would print a deprecation line (not JSON) on every start.
WORKDIR /app
COPY --from=build /app ./
# Production dependencies exactly as locked; no install scripts. Then the
# package managers go: nothing runs them at runtime, and scanners flag them.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg /root/.npm
# Numeric and without a passwd entry, so runAsNonRoot can verify it. The
# files stay root-owned and read-only to it (readOnlyRootFilesystem in the chart).
USER 10001:10001
EXPOSE 8080
# node is PID 1: the operator installs SIGTERM/SIGINT handlers (finish
# in-flight reconciles, exit 0) and starts no child processes, so it needs no
# init (tini) to forward signals or reap zombies.
ENTRYPOINT ["node", "--heap-growing-percent=20", "--optimize-for-size", "--disable-warning=DEP0040", "dist/operator.js"]
