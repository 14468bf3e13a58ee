# Two entry points a newcomer needs: `make demo` (install + main job) and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
# The CPU build of torch: on a GPU-less machine this avoids a multi-GB CUDA download.
# Set TORCH_SPEC= (empty) to let pip pick torch for your hardware.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install test test-slow demo bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	if [ -n "$(TORCH_SPEC)" ]; then $(PIP) install -q "$(TORCH_SPEC)"; fi
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

demo: install
	$(VENV)/bin/polyalign data build qalign-stage1-sample --overwrite

bench: install
	$(PY) benchmarks/data_build_memory.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
