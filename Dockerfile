# HealthProxy gateway image. Build: docker build -t healthproxy .
# Config: the repository's appsettings.json is /app/appsettings.json; mount another over it, or override any
# key with environment variables (ReverseProxy__Clusters__catalog__Destinations__catalog-a__Address=...).
# The base images are build arguments, so the same file builds with local stand-ins where the official images
# cannot be pulled (config/image/build-local.sh). A runtime image must provide dotnet with the ASP.NET Core
# runtime and a non-root user whose uid is in APP_UID, as the official one does.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/HealthProxy.Health/HealthProxy.Health.csproj src/HealthProxy.Health/
COPY src/HealthProxy.Consul/HealthProxy.Consul.csproj src/HealthProxy.Consul/
COPY src/HealthProxy.Gateway/HealthProxy.Gateway.csproj src/HealthProxy.Gateway/
RUN dotnet restore src/HealthProxy.Gateway/HealthProxy.Gateway.csproj
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/HealthProxy.Gateway/HealthProxy.Gateway.csproj -c Release --no-restore -p:UseAppHost=false -o /app

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app ./
# Traffic on 8080; /metrics only on the management port 9464 (HealthProxy:Metrics:Port), kept internal.
# Socket completions run on the runtime's epoll threads instead of hopping to the thread pool: +11% requests/s
# (README, Performance). The request path does no blocking I/O; the heaviest work it can run there is a breaker
# trip's rebuild of one cluster's routing snapshot (a state change reaches routing in 1-4 ms in bench/scale.sh).
# With heavy TLS handshake churn, measure both.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    HealthProxy__Metrics__Port=9464 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
EXPOSE 8080 9464
# The image's non-root user (uid 1654).
USER $APP_UID
# The image has no curl: the gateway checks its own /health/live on 127.0.0.1 and exits 0 or 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "HealthProxy.Gateway.dll", "healthcheck"]
# SIGTERM starts a graceful stop: readiness 503, serve for HealthProxy__Shutdown__DrainDelay (5 s), then finish
# in-flight requests for up to HealthProxy__Shutdown__Timeout (20 s). docker stop waits only 10 s before SIGKILL:
# use docker stop -t 30 (Kubernetes: terminationGracePeriodSeconds above drain delay + timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "HealthProxy.Gateway.dll"]
