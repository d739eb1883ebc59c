# syntax=docker/dockerfile:1
# Three images from one file:
#   --target controlplane : operator, control plane, webhook and CLI (with kube/, their
#                           Kubernetes client); the chart picks the role with the container's
#                           command (strongroom-operator, strongroom-controlplane,
#                           strongroom-webhook)
#   --target sidecar      : the injected sidecar only, kept small (core + sidecar + aiohttp)
#   --target client       : the SDK alone (httpx), for examples and the kind end-to-end test
# The RUN steps of the `build` stage are executed verbatim, in a fresh temporary venv, by
# scripts/check-dockerfile-install (tests/chart runs it), so a broken recipe fails CI without a
# container engine. Keep each install step a plain shell command that writes under /venv/.

# Pinned by digest (python 3.11.10 on Debian bookworm, slim). To move: pick the new tag, read its
# digest with `docker buildx imagetools inspect python:<tag>`, and update both together.
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY core/ core/
COPY kube/ kube/
COPY sidecar/ sidecar/
COPY operator/ operator/
COPY webhook/ webhook/
COPY cli/ cli/
COPY sdk/ sdk/
# Each image gets its own venv with only what it runs; the sidecar's never sees kopf or the CLI.
RUN python -m venv /venv/sidecar \
 && /venv/sidecar/bin/pip install ./core ./sidecar \
 && /venv/sidecar/bin/pip uninstall --yes pip
RUN python -m venv /venv/controlplane \
 && /venv/controlplane/bin/pip install ./core ./kube ./operator ./sidecar ./webhook ./cli \
 && /venv/controlplane/bin/pip uninstall --yes pip
RUN python -m venv /venv/client \
 && /venv/client/bin/pip install ./sdk \
 && /venv/client/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.vendor="Strongroom"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# 65532 is the chart's runAsUser; the webhook runs the injected sidecar as 15080 instead.
USER 65532:65532

FROM runtime AS sidecar
LABEL org.opencontainers.image.title="strongroom-sidecar"
COPY --from=build /venv/sidecar /venv/sidecar
ENV PATH=/venv/sidecar/bin:$PATH
EXPOSE 15080 15081
ENTRYPOINT ["strongroom-sidecar"]

FROM runtime AS client
LABEL org.opencontainers.image.title="strongroom-client"
COPY --from=build /venv/client /venv/client
ENV PATH=/venv/client/bin:$PATH
ENTRYPOINT ["python"]

# Last, so a plain `docker build .` makes the main image.
FROM runtime AS controlplane
LABEL org.opencontainers.image.title="strongroom"
COPY --from=build /venv/controlplane /venv/controlplane
ENV PATH=/venv/controlplane/bin:$PATH
EXPOSE 8443
# The CLI by default (`docker run ... audit query`); the chart runs the role commands.
ENTRYPOINT ["strongroom"]
