# syntax=docker/dockerfile:1
# Two images from one file:
#   --target controlplane : operator, control plane and CLI
#   --target sidecar      : the sidecar only (kept small: core + aiohttp)
# The install steps are the ones scripts/check-dockerfile-install runs in CI in a fresh venv.

ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY core/ core/
COPY sidecar/ sidecar/
COPY operator/ operator/
COPY webhook/ webhook/
COPY cli/ cli/
RUN python -m venv /venv/sidecar \
 && /venv/sidecar/bin/pip install ./core ./sidecar \
 && python -m venv /venv/controlplane \
 && /venv/controlplane/bin/pip install ./core ./operator ./sidecar ./webhook ./cli

FROM ${PYTHON_IMAGE} AS sidecar
COPY --from=build /venv/sidecar /venv/sidecar
ENV PATH=/venv/sidecar/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 15080 15081
ENTRYPOINT ["strongroom-sidecar"]

FROM ${PYTHON_IMAGE} AS controlplane
COPY --from=build /venv/controlplane /venv/controlplane
ENV PATH=/venv/controlplane/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["strongroom"]
