# The deckhand image: one static binary and the CA certificates it needs for TLS,
# nothing else. The actions take /deckhand out of it and run it on the runner
# (actions/lib/install-deckhand.sh finds it in the top layer); people can run the
# image too:
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     -e AWS_SESSION_TOKEN ghcr.io/OWNER/deckhand:v0 ecs diff --cluster C --service S
#
# Base images are pinned by tag here. .github/workflows/image.yml builds it (for
# release.yml and edge.yml) with an SBOM and provenance; a release commit pins the
# result by digest in actions/lib/release-image.

FROM rust:1.95-alpine AS build
# gcc comes with the image; musl-dev gives the C library headers that aws-lc-sys
# (TLS crypto, compiled from C) needs; ca-certificates is copied into the final image.
RUN apk add --no-cache musl-dev ca-certificates
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# `deckhand --version` names the commit (crates/deckhand/build.rs); the context has no .git.
ARG DECKHAND_BUILD_COMMIT=unknown
ENV DECKHAND_BUILD_COMMIT=${DECKHAND_BUILD_COMMIT}
# The musl target links statically by default, so the binary runs on `scratch`.
# (Cache mounts need BuildKit, which docker buildx and current Docker use.)
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p deckhand \
    && mkdir -p /out \
    && cp target/release/deckhand /out/deckhand

FROM scratch
# The repository the image is built from (https://github.com/OWNER/REPO): GitHub links the
# package to it through this label. The workflows pass it; nothing names an owner here.
ARG DECKHAND_SOURCE=""
# The CA certificates first and deckhand last: the installer reads the top layer first.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/deckhand /deckhand
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="deckhand" \
      org.opencontainers.image.description="Ship to AWS from GitHub Actions: ECS deploys with true verdicts." \
      org.opencontainers.image.source="${DECKHAND_SOURCE}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# No USER: run it with `docker run --user "$(id -u):$(id -g)"` to keep the files it
# writes (a $GITHUB_OUTPUT, say) owned by the caller.
ENTRYPOINT ["/deckhand"]
