# The README's two commands: `make demo` and `make test`. Both start from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SHARED := ../shared/data/fashion-small
HOST ?= 127.0.0.1
# The demo's write key: yours (LOOKALIKE_API_KEY) or a fresh random one, printed at start.
DEMO_KEY := $(or $(LOOKALIKE_API_KEY),$(shell $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(12))'))

.PHONY: demo test lint serve system clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch/torchvision come from this machine's disk (pinned); everything else from PyPI.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

data/raw:
	@if [ -d $(SHARED) ]; then mkdir -p data && ln -s ../$(SHARED) data/raw && echo "linked $(SHARED) as data/raw"; \
	else echo "no catalogue: put the Kaggle 'Fashion Product Images' styles.csv + images/ in data/raw (see README)"; exit 1; fi

# Each step skips itself when its output is up to date; then the API and the UI serve until Ctrl-C.
demo: $(VENV)/.installed data/raw
	$(BIN)/lookalike ingest
	$(BIN)/lookalike embed
	$(BIN)/lookalike index
	@echo "API: http://$(HOST):8000 (docs http://$(HOST):8000/docs)   UI: http://$(HOST):7860"
	@echo "Write key (Manage catalogue tab; Authorization: Bearer): $(DEMO_KEY)"
	@LOOKALIKE_API_KEY=$(DEMO_KEY) $(BIN)/lookalike serve --host $(HOST) --port 8000 & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	$(BIN)/lookalike ui --host $(HOST) --port 7860 --api-url http://$(HOST):8000

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Debian packages the tests start or drive (installed once, needs root or sudo): chromium for
# the headless browser test, redis-server for the shared response cache, wrk for `bench api`.
SYSTEM_PACKAGES := chromium chromium-driver redis-server wrk postgresql
system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

test: lint system
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) data/catalog data/catalog.builds data/embeddings data/qdrant data/faiss
