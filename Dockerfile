# The partner's image. One image, two roles: `assessments api` (the default command) or
# `assessments worker` (docker-compose.yml, docs/deployment.md). Settings come from the environment
# (ASSESSMENTS_*, docs/settings.md); nothing secret is baked in.
#
#   docker build -t smartrecruiters-assessments:0.1.0 .
#   docker run --rm --entrypoint python smartrecruiters-assessments:0.1.0 -m codec key-1   # a payload key

# Pinned, and the same in both stages: the virtualenv is copied across, so its Python must match.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build: the project and its runtime dependencies into a virtualenv (no test extras) --------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# .dockerignore keeps tests, docs, local state and secrets out of the build context.
COPY . .
# The runtime dependencies from their lock (the versions `make test` tested, hash-checked), then
# the project alone.
RUN pip install --require-hashes -r requirements/run.txt \
    && pip install --no-deps . \
    && assessments --help >/dev/null

# --- runtime: the virtualenv, a non-root user, nothing else -------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="smartrecruiters-assessments" \
      org.opencontainers.image.description="SmartRecruiters assessment partner on Temporal: run 'api' or 'worker'" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ASSESSMENTS_API_HOST=0.0.0.0 \
    ASSESSMENTS_API_PORT=8000
RUN groupadd --system --gid 10001 assessments \
    && useradd --system --uid 10001 --gid assessments --home-dir /home/assessments --create-home \
       --shell /usr/sbin/nologin assessments
COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py /opt/assessments/healthcheck.py
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /home/assessments
EXPOSE 8000
# The API: GET /healthz answers; a worker: Temporal's frontend accepts connections (the script
# tells the two apart by the running command).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/assessments/healthcheck.py"]
ENTRYPOINT ["assessments"]
CMD ["api"]
