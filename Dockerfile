# The digestpin image: `digestpin serve` as the Helm chart runs it (ENTRYPOINT node … dist/cli.js).
# It builds with any OCI builder, no Docker daemon needed:
#
#   buildah bud -t ghcr.io/digestpin/digestpin:$(node -p 'require("./package.json").version') .
#   docker build -t ghcr.io/digestpin/digestpin:… .
#
# BASE_IMAGE is the Node 24 image every stage starts from, pinned by digest, as digestpin asks of
# every image: by default the digest node:24-bookworm-slim had when it was Node 24.18.0, taken
# from public build records (the machines this was written on cannot pull images). When
# refreshing it for Node or Debian fixes, take the multi-platform index digest (`crane digest
# node:24-bookworm-slim`). `make image` builds on a stand-in assembled offline from Debian
# packages and the npm registry's Node 24 (scripts/image-base.sh) and passes it here.
# test/chart/dockerfile.test.ts fails on a default without a sha256 digest.
ARG BASE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# Build: every dependency, then tsc into dist/.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm-ca: CAs npm must trust besides the public ones (behind a TLS-inspecting proxy), as a build
# secret: `--secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt` (scripts/image.sh). It is
# mounted for this step only and kept in no layer.
RUN --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without install scripts.
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: node, the built CLI and its production dependencies; no npm, no build tools.
FROM ${BASE_IMAGE}
# npm and corepack are not needed to run digestpin: less to patch, less to exploit.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn* \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE* ./
# Numeric, so that the kubelet can verify runAsNonRoot; the chart runs as the same 65532.
# Nothing is written at run time (the chart mounts the root filesystem read-only, /tmp aside).
USER 65532:65532
EXPOSE 8443 9090
# Young-generation semi-spaces of 16 MiB, not what V8 sizes from the memory it sees (64 MiB on
# the 24 GiB benchmark machine, with scavenges up to 11 ms) nor 4 MiB (a third as much garbage
# collection time per review as 4 MiB, longest pause no longer; up to 36 MiB more young
# generation than 4 MiB at its peak). BENCHMARKS.md.
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/dist/cli.js"]
CMD ["serve"]
LABEL org.opencontainers.image.title="digestpin" \
      org.opencontainers.image.description="Admission webhook that pins image tags to reviewed digests" \
      org.opencontainers.image.source="https://github.com/digestpin/digestpin" \
      org.opencontainers.image.licenses="Apache-2.0"
