# roma-emulator as a staging stub: `docker build -t roma-emulator .`, then
# `docker run -p 8080:8080 -v roma-state:/var/lib/roma-emulator roma-emulator`.
# Both base images are build arguments, so a mirror (or a local stand-in) can replace them.
ARG BUILDER=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILDER} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin roma-emulator \
 && mkdir -p /out/state \
 && cp target/release/roma-emulator /out/roma-emulator

FROM ${RUNTIME}
COPY --from=build /out/roma-emulator /usr/local/bin/roma-emulator
COPY container/config.toml /etc/roma-emulator/config.toml
COPY --from=build --chown=65532:65532 /out/state /var/lib/roma-emulator
USER 65532:65532
EXPOSE 8080 8081
# Read by the server and by `roma-emulator healthcheck` alike, so the check asks the port the
# server serves probes on (server.probe_listen, else server.listen; a mounted config or a
# ROMA_EMULATOR_SERVER_* variable included).
ENV ROMA_EMULATOR_CONFIG=/etc/roma-emulator/config.toml
VOLUME ["/var/lib/roma-emulator"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=3s --retries=3 \
  CMD ["/usr/local/bin/roma-emulator", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/roma-emulator"]
