# The deckhand image: one static binary and the CA certificates it needs for TLS,
# nothing else. actions/ecs-deploy runs it with `docker run`; people can too:
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     -e AWS_SESSION_TOKEN ghcr.io/deckhand-dev/deckhand ecs diff --cluster C --service S
#
# Base images are pinned by tag here; the release process pins them by digest
# (and .github/workflows/release.yml publishes the result with an SBOM and
# provenance, referenced by digest from the released action.yml files).

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
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/deckhand /deckhand
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="deckhand" \
      org.opencontainers.image.description="Ship to AWS from GitHub Actions: ECS deploys with true verdicts." \
      org.opencontainers.image.source="https://github.com/deckhand-dev/deckhand" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# No USER: actions/ecs-deploy passes `--user` with the runner's uid and gid, so
# whatever deckhand appends to $GITHUB_OUTPUT stays owned by the runner.
ENTRYPOINT ["/deckhand"]
