# The onsale application image: one image, run as the api, the worker or the
# migration one-shot by its command (see docker-compose.yml). TypeScript runs
# through tsx, as in development, so there is no separate build step.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so code changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

USER node
ENTRYPOINT ["node_modules/.bin/tsx"]
CMD ["api/server.ts"]
