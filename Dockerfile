# syntax=docker/dockerfile:1
# One image for every Emporium role: `docker run IMAGE start|web|worker|pipeline|migrate|seed|doctor|kibana import …`.
# Built from this repository's root: docker build -t emporium .
# test/deploy/image.test.ts reads this file: it builds what the build stage builds (same COPY lines, same RUN
# commands after `npm ci`) and starts that artefact with the runtime stage's ENV, USER, WORKDIR and command.

# Debian 12 (glibc): argon2, better-sqlite3 and @duckdb/node-api ship prebuilt glibc binaries. The same Node 20 as CI.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# A compiler, for a native module whose prebuilt binary cannot be fetched (node-gyp falls back to building it).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY deploy/kibana ./deploy/kibana
COPY deploy/pipeline.example.json ./deploy/pipeline.example.json
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
# DATA_DIR: the log spool (and, embedded, SQLite and DuckDB); the only place the process writes.
RUN mkdir -p /data && chown 1000:1000 /data
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  METRICS_PORT=9464 \
  DATA_DIR=/data \
  GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072
# The official image's `node` user, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 3000 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
