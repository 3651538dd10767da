# syntax=docker/dockerfile:1.7
# One Dockerfile for every service (the catalog's services, deploy/services.yaml):
#   docker build --target core --build-arg SERVICE_DIR=auth -t cryptopredict-auth .
#   docker build --target ml   --build-arg SERVICE_DIR=layer1_macro -t cryptopredict-layer1-macro .
#   docker build --target training -t cryptopredict-training .
# `core` carries no torch; `ml` adds it for the services running the models (skaffold.yaml,
# generated from the catalog, picks the target per service). The final images hold only the
# runtime virtualenv, libs/ and the one service's directory (its package and migrations).

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

FROM base AS deps-core
COPY requirements.lock deploy/docker/requirements-core.in /build/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -c /build/requirements.lock -r /build/requirements-core.in

FROM deps-core AS deps-ml
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY deploy/docker/requirements-ml.in /build/
RUN /opt/venv/bin/pip install --no-cache-dir --extra-index-url "${TORCH_INDEX_URL}" \
        -c /build/requirements.lock -r /build/requirements-ml.in

FROM base AS runtime
RUN groupadd --system --gid 10001 cryptopredict \
    && useradd --system --uid 10001 --gid cryptopredict --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin cryptopredict
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/libs \
    CP_STATE_DIR=/tmp/state
COPY libs /app/libs
ENTRYPOINT ["python"]

FROM runtime AS core
ARG SERVICE_DIR
COPY --from=deps-core /opt/venv /opt/venv
COPY services/${SERVICE_DIR} /app/services/${SERVICE_DIR}
ENV PYTHONPATH=/app/libs:/app/services/${SERVICE_DIR}
USER 10001:10001

FROM runtime AS ml
ARG SERVICE_DIR
COPY --from=deps-ml /opt/venv /opt/venv
COPY services/${SERVICE_DIR} /app/services/${SERVICE_DIR}
ENV PYTHONPATH=/app/libs:/app/services/${SERVICE_DIR}
USER 10001:10001

FROM runtime AS training
COPY --from=deps-ml /opt/venv /opt/venv
USER 10001:10001
CMD ["-m", "cp_models.registry", "train"]
