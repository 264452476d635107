# Dossier application image: the same image runs `server`, `worker` or the all-in-one `start`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# The worker's memory settings (README, "Memory"): two malloc arenas instead of one per thread (the parse
# threads otherwise hold on to freed memory), compiled code cached so no thread loads the TypeScript
# stripper again, and a small young generation on the main thread (it only passes buffers along).
ENV NODE_ENV=production DOSSIER_DATA_DIR=/data MALLOC_ARENA_MAX=2 NODE_COMPILE_CACHE=/app/.cache/node-compile
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data /app/.cache && chown node:node /data /app/.cache
USER node
EXPOSE 3000
VOLUME ["/data"]
ENTRYPOINT ["node", "--max-semi-space-size=2", "src/main.ts"]
CMD ["start"]
