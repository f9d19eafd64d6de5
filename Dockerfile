# syntax=docker/dockerfile:1
# One image for the API (`seedtest serve`), the θ-update worker (`seedtest worker`) and every job
# (`seedtest job run <name>`): docs/operations.md. Build and push:
#   docker build -t REGISTRY/seedtest-analytics:$(node -p "require('./package.json').version") .
# Pin the base image by digest in your registry mirror if you need reproducible builds:
#   docker build --build-arg NODE_IMAGE=node:24-slim@sha256:… .
ARG NODE_IMAGE=node:24-slim

# --- build: every dependency (TypeScript, types), compile src/ to dist/ -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` builds dist/, which needs the sources copied below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- deps: production dependencies only ---------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# The PDF reports embed Noto Sans KR 400 and 700 (src/reports/render.ts resolves the two TTF files of
# @expo-google-fonts/noto-sans-kr, a production dependency); the other seven weights and the preview
# images are 40 MB that nothing reads.
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force \
 && cd node_modules/@expo-google-fonts/noto-sans-kr \
 && find . -mindepth 1 -maxdepth 1 -type d ! -name 400Regular ! -name 700Bold -exec rm -rf {} + \
 && rm -f ./*.png ./*/*.png \
 && test -f 400Regular/NotoSansKR_400Regular.ttf && test -f 700Bold/NotoSansKR_700Bold.ttf

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps zombies (node as PID 1 ignores signals it has
# no handler for, which would turn every `kubectl delete pod` into a wait for SIGKILL).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# SEEDTEST_IN_CONTAINER: HOST defaults to 0.0.0.0.
ENV NODE_ENV=production \
    SEEDTEST_IN_CONTAINER=true \
    PORT=8080 \
    DATA_DIR=/data \
    TMPDIR=/tmp
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json .env.example ./
COPY bin ./bin
# The code is owned by root and read-only to the process; DATA_DIR (the embedded database and local
# report files when no DATABASE_URL / S3_BUCKET is set) is the one writable place, and /tmp.
# Under Kubernetes the root filesystem is read-only and both are emptyDir volumes (deploy/k8s/).
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME ["/data"]
# The `node` user of the official image, by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# Meaningful for `serve` (the default command); a worker or job container has no HTTP server, and
# Kubernetes ignores HEALTHCHECK (its probes are in deploy/k8s/api.yaml). No curl in slim: node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/seedtest.js"]
CMD ["serve"]
