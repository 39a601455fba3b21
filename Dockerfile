# coupa-connector image: `docker build -t coupa-connector .`
# Runs as a self-hosted ConductorOne connector with BATON_CLIENT_ID / BATON_CLIENT_SECRET (see
# docs/service-mode.md), or any other command: `docker run --rm coupa-connector capabilities`.
# test/deploy/runtime-install.test.ts installs and starts the app exactly as the build stage
# assembles /app, with a read-only root filesystem.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 and zstd-napi compile from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the root package's `prepare` (tsc) needs the sources, copied below; the two
# native modules are then built on purpose, and nothing else runs install scripts.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 zstd-napi
COPY tsconfig.json tsconfig.build.json README.md ./
COPY bin ./bin
COPY src ./src
# /app = what `npm pack` publishes (package.json "files") + the production dependencies only, with
# the native modules compiled above: the same tree `npm ci --omit=dev` installs.
RUN npm run build \
  && npm pack --ignore-scripts --pack-destination /tmp \
  && mkdir /app \
  && tar -xzf /tmp/coupa-connector-*.tgz -C /app --strip-components=1 \
  && cp package-lock.json /app/ \
  && cp -a node_modules /app/ \
  && cd /app \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
  HOME=/var/lib/coupa-connector \
  XDG_STATE_HOME=/var/lib/coupa-connector/state \
  TMPDIR=/tmp
# The code is owned by root and read-only to the connector; only the state folder (provisioning
# journal, audit log, locks) and /tmp (c1z being built, --c1z-temp-dir) are written. Mount both
# as volumes when the root filesystem is read-only.
COPY --from=build /app /app
RUN mkdir -p /var/lib/coupa-connector/state \
  && chown -R 1000:1000 /var/lib/coupa-connector \
  && chmod 0700 /var/lib/coupa-connector
USER 1000:1000
WORKDIR /var/lib/coupa-connector
VOLUME ["/tmp", "/var/lib/coupa-connector"]
# Only with --health-check (BATON_HEALTH_CHECK=true) and --health-check-bind-address 0.0.0.0.
EXPOSE 8081
ENTRYPOINT ["node", "/app/bin/coupa-connector.js"]
