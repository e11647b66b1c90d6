# vdcaudit CLI image. Pinned base image (for reproducible builds, pin the digest as well:
# python:3.11.9-slim-bookworm@sha256:...); runs as a non-root user.
#   docker build -t vdcaudit .
#   docker run --rm -v "$PWD:/work" vdcaudit scan --template main.json --out reports/ --fail-on high
FROM python:3.11.9-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY vdcaudit ./vdcaudit
COPY rules ./rules
COPY reports/templates ./reports/templates
COPY fixtures/demo ./fixtures/demo
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.9-slim-bookworm
RUN useradd --create-home --uid 10001 vdcaudit
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER vdcaudit
WORKDIR /work
ENTRYPOINT ["vdcaudit"]
CMD ["--help"]
