# Two entry points a newcomer needs: `make quickstart` (install + the main job) and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
# The CPU build of torch: on a GPU-less machine this avoids a multi-GB CUDA download.
# Set TORCH_SPEC= (empty) to let pip pick torch for your hardware.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install test test-slow quickstart demo bench clean

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

# The main job: the CPU QAlign experiment on the embedded SmolLM2 (base vs MonoReason vs QAlign on
# the arith task in English + 8 languages), prints the three-arm table with CIs and writes
# quickstart-out/report.html (15-minute budget; 16-17 min measured on 2 CPU cores; rerun to resume).
quickstart: install
	$(VENV)/bin/polyalign quickstart

# A one-minute look at the data side: builds QAlign stage-I data from the shipped sample.
demo: install
	$(VENV)/bin/polyalign data build qalign-stage1-sample --overwrite

bench: install
	$(PY) benchmarks/data_build_memory.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
