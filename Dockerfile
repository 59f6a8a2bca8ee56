# syntax=docker/dockerfile:1
# Build stage: full dependencies (the install step applies patches/; npm installs the embedded
# PostgreSQL binaries for the image's platform), compile TypeScript, then drop the development
# dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY openapi ./openapi
COPY generated ./generated
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the patched production dependencies and the compiled output only. It runs as the
# unprivileged user node; without DATABASE_URL the embedded PostgreSQL server runs as that user
# too, with its data in /data/postgres.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SWITCHBOARD_DATA_DIR=/data \
    SWITCHBOARD_BIND_ADDRESS=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY openapi ./openapi
COPY config.sample.yaml ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 29316
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:29316/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The V8 flags are those of npm start (see package.json).
CMD ["node", "--max-semi-space-size=8", "--expose-gc", "dist/src/server.js"]
