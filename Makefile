# `make book`  — set up .venv if needed, then execute and render the book with $(PARAMS)
# `make test`  — set up .venv if needed, then unit tests + the ci book under nbval
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PARAMS  ?= params/default.yaml
STAMP   := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: setup book chapter test unit nbval html-test bench clean

setup: $(STAMP)

# CPU machines take the CPU wheel torch==2.13.0 (never a multi-GB CUDA build);
# machines with an NVIDIA driver take the default (CUDA) build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1; then \
	  $(BIN)/python -m pip install -q 'torch>=2.4,<3'; \
	else \
	  $(BIN)/python -m pip install -q torch==2.13.0; \
	fi
	$(BIN)/python -m pip install -q -e '.[book,test]'
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python -m disentangle book --params $(PARAMS)

chapter: $(STAMP)
	@test -n "$(NAME)" || (echo "usage: make chapter NAME=01_impossibility [PARAMS=params/ci.yaml]"; exit 2)
	$(BIN)/python -m disentangle book --params $(PARAMS) --only $(NAME)

test: $(STAMP)
	$(MAKE) unit
	$(BIN)/python -m disentangle book --params params/ci.yaml
	$(MAKE) nbval

unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests

# re-executes the notebooks executed with params/ci.yaml and checks the built HTML
nbval: $(STAMP)
	DISENTANGLE_REQUIRE_BUILD=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
	  --nbval-lax --nbval-cell-timeout=600 _build/executed/*.ipynb tests/test_book_html.py

# the quick benchmarks (minutes); the others (metrics_time, metrics_fast_vs_paper,
# beta_vae_learns, dsprites_fit_outlines) take longer: see each script's docstring
bench: $(STAMP)
	$(BIN)/python benchmarks/data_throughput.py
	$(BIN)/python benchmarks/dsprites_exactness.py
	$(BIN)/python benchmarks/train_throughput.py --quick
	$(BIN)/python benchmarks/study_overhead.py --quick

clean:
	rm -rf _build
