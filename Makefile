# One venv for everything; every target depends on it, so a fresh clone needs no other step.
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

MODEL   ?= resnet50
BACKEND ?= jax
RECIPE  ?=
DATA    ?=
EPOCHS  ?=
OUT     ?=
ARGS    ?=

train_flags = --model $(MODEL) --backend $(BACKEND) \
	$(if $(RECIPE),--recipe $(RECIPE)) $(if $(DATA),--data $(DATA)) \
	$(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(OUT),--out $(OUT)) $(ARGS)

.PHONY: setup train test test-all compare bench lint clean

setup: $(STAMP)

# Re-runs only when pyproject.toml or the lock (constraints.txt) changes.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	# --no-deps: timm's torchvision cannot load beside the CPU torch wheel; keras-hub's
	# tensorflow-text would pull the full tensorflow wheel beside tensorflow-cpu (keras-hub's
	# pure-Python requirements, kagglehub kagglesdk regex sentencepiece tokenizers, are in pyproject).
	$(PY) -m pip install --quiet --no-deps -c constraints.txt timm keras-hub
	touch $@

# KERAS_BACKEND is also set by `python -m zoo` itself before keras is imported.
train: $(STAMP)
	KERAS_BACKEND=$(BACKEND) $(PY) -m zoo train $(train_flags)

# `make test` skips the long end-to-end runs marked @pytest.mark.slow; `make test-all` runs everything.
test: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -q -n 2

compare: $(STAMP)
	$(PY) -m zoo compare $(ARGS)

bench: $(STAMP)
	$(PY) -m zoo bench $(ARGS)

# ruff, then the import layers of pyproject.toml [tool.importlinter] (also tests/test_layers.py).
lint: $(STAMP)
	$(PY) -m ruff check zoo recipes data_tools tests
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
