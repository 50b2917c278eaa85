# syntax=docker/dockerfile:1
# mqtt-authd: build with dev dependencies, run with production ones only.
#   docker build -t mqtt-authd .
#   docker run -e ADMIN_TOKENS=ops:<token> -e REDIS_URL=redis://redis:6379 -p 8080:8080 mqtt-authd
# docker-compose.yml shows the whole deployment and the environment it expects.

# --- build: TypeScript -> dist/, console -> dist/admin ----------------------------------------------------------------
FROM node:20-slim AS build
WORKDIR /app
# Manifests first: the npm ci layer is reused until the dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# tsconfig.build.json compiles src/ only (bench/ and stress/ build with tsconfig.tools.json).
COPY src ./src
# The operator console (/admin): web/ bundled by esbuild into dist/admin.
COPY web ./web
COPY scripts/build-web.mjs ./scripts/
RUN npm run build

# --- runtime ------------------------------------------------------------------------------------
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/admin ./dist/admin

# The image's unprivileged `node` user (uid 1000). docker-compose.fallback.yml runs the
# container as 1883:1883 instead, the uid of the broker it has to signal.
USER node
EXPOSE 8080

# Liveness: /healthz answers while the process serves HTTP. Redis trouble shows on /readyz
# instead; it is not a reason to restart the process (it recovers by itself, and an
# orchestrator that restarts unhealthy containers would only add downtime). docker-compose.yml
# starts the broker once this check passes. Node makes the request: the slim image has neither
# curl nor wget.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const r=require('http').get('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',s=>process.exit(s.statusCode===200?0:1));r.on('error',()=>process.exit(1));r.setTimeout(4000,()=>process.exit(1))"]

# node directly, not npm: signals (SIGTERM from docker stop) reach the service, which drains.
CMD ["node", "dist/src/cli.js", "serve"]
