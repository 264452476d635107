# Dossier application image: the same image runs `server`, `worker` or the all-in-one `start`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# Two malloc arenas instead of one per thread: the sync's parse threads otherwise hold on to freed memory.
ENV NODE_ENV=production DOSSIER_DATA_DIR=/data MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
ENTRYPOINT ["node", "src/main.ts"]
CMD ["start"]
