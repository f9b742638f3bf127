# ngx_http_douyin_module in Debian 12's nginx (README "Deployment").
#
#   docker-compose up -d --build          (docker-compose.yml, .env)
#   docker build -t douyin-processor .    (plain; --build-arg APT_MIRROR=...)
#
# Build stage: the same `make` as on a host and in CI (Debian's nginx-dev,
# its conf_flags, --with-compat --with-threads), from the packages of
# scripts/debian-packages-build.  Runtime stage: Debian's nginx of the same
# version, the module, its libraries and the configs of conf/ made fit for
# a container by docker/container-conf.sh.  The master runs as root (it
# creates the store folder and gives it to www-data); the workers run as
# www-data.  No secret is in any layer: ALIYUN_ACCESS_KEY comes from the
# container's environment (.env) and reaches the workers through nginx's
# `env ALIYUN_ACCESS_KEY;`.
#
# APT_MIRROR (empty: Debian's default): a Debian mirror host for both
# stages' apt, e.g. mirrors.aliyun.com or mirrors.tuna.tsinghua.edu.cn.
#
# t/plain/060-deploy.t runs this build stage's commands (but the package
# install) on the test host, from only the files this stage copies.

FROM debian:bookworm-slim AS build

ARG APT_MIRROR=

WORKDIR /src

COPY docker/apt-mirror.sh docker/container-conf.sh docker/nginx-version.sh docker/
COPY scripts/deps.sh scripts/
COPY scripts/debian-packages-build scripts/debian-packages
RUN sh docker/apt-mirror.sh "$APT_MIRROR" && ./scripts/deps.sh

COPY config Makefile ./
COPY ngx_http_douyin_module/ ngx_http_douyin_module/
COPY docs/ docs/
COPY scripts/embed-docs.py scripts/step.sh scripts/configure.sh scripts/
RUN make

COPY conf/ conf/
RUN sh docker/container-conf.sh conf image/nginx && sh docker/nginx-version.sh > image/nginx-version


FROM debian:bookworm-slim

ARG APT_MIRROR=

COPY docker/apt-mirror.sh /tmp/apt-mirror.sh
RUN sh /tmp/apt-mirror.sh "$APT_MIRROR" \
    && rm /tmp/apt-mirror.sh \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx libcurl4 libcjson1 liblmdb0 lmdb-utils ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /src/build/ngx_http_douyin_module.so /usr/lib/nginx/modules/
COPY --from=build /src/image/nginx/ /etc/nginx/
COPY --from=build /src/image/nginx-version /src/docker/nginx-version.sh /usr/local/share/douyin/
COPY docker/entrypoint.sh /usr/local/bin/douyin-entrypoint

# the nginx here must be the one the module was built for; the configs
# must load the module here (its libraries, its binary signature)
RUN chmod 0755 /usr/local/bin/douyin-entrypoint \
    && sh /usr/local/share/douyin/nginx-version.sh check /usr/local/share/douyin/nginx-version \
    && install -d -o www-data -g www-data -m 0750 /var/lib/nginx/douyin \
    && ALIYUN_ACCESS_KEY=image-build-check nginx -t \
    && ALIYUN_ACCESS_KEY=image-build-check nginx -t -c /etc/nginx/nginx-gateway.conf

# the LMDB store: keep it on a volume
VOLUME ["/var/lib/nginx/douyin"]

# 8093: the service (nginx.conf); 8010: the gateway (nginx-gateway.conf)
EXPOSE 8093 8010

# nginx's graceful stop: workers finish what they can, the rest is
# resumed from the store at the next start
STOPSIGNAL SIGQUIT

# the service's health route; the gateway variant's is
# http://127.0.0.1:8010/api/douyin/health (docker-compose.yml sets it)
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8093/health || exit 1

ENTRYPOINT ["douyin-entrypoint"]
CMD ["nginx", "-g", "daemon off;"]
