# syntax=docker/dockerfile:1
# The onsale application image: one image, run as the api, the worker or the
# migration one-shot by its command (see docker-compose.yml).
#
#   build    compiles the TypeScript to JavaScript (tsconfig.build.json) and
#            bundles the workflow code once (scripts/bundle-workflows.ts), so a
#            worker starts without webpack and every replica runs the same bundle
#   runtime  production dependencies and the compiled output only, as the
#            unprivileged node user
#
# Node 24, the LTS line the native topology runs (NODE_VERSION in
# scripts/lib/common.sh, package.json's engines); Node 20 reached end of life in
# April 2026.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json --outDir dist \
 && node_modules/.bin/tsx scripts/bundle-workflows.ts dist/workflow-bundle.js \
 # Files read at run time beside the code: SQL migrations, and the buyer page
 # (bundled by esbuild when the API starts) with its stylesheet.
 && cp -r db/migrations dist/db/migrations \
 && mkdir -p dist/web && cp -r web/. dist/web/

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
ENTRYPOINT ["node"]
CMD ["dist/api/server.js"]
