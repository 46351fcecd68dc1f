# Developer and CI entry points. `make help` lists them.
# Every tool runs from .venv/bin, so nothing depends on the caller's PATH; every version
# is pinned in pyproject.toml alone.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python used only to create the virtualenv: 3.11 where available.
BOOT_PYTHON := $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SETUP_STAMP := $(VENV)/.setup-stamp
# MicroPython board stubs: each port in its own folder, never inside .venv.
STUB_PORTS := rp2 esp32
STUB_STAMPS := $(foreach port,$(STUB_PORTS),.stubs/$(port)/.setup-stamp)
# A Python environment with nothing in it, for pyrightconfig.firmware.json: it keeps the
# firmware type check away from the CPython standard library.
EMPTY_ENV := .stubs/empty-env/lib/python3.11/site-packages

# Serial port and board for `make flash` / `make repl`; ROMFS=1 deploys the firmware
# packages as a ROMFS image (needs a MicroPython built with ROMFS, docs/hardware.md).
PORT ?= /dev/ttyACM0
BOARD ?= pico
ROMFS ?=
# Extra pytest arguments, e.g. `make test PYTEST_ARGS='-k protocol'`.
PYTEST_ARGS ?=
# pytest-xdist workers; the suites are written to be safe under xdist.
PYTEST_WORKERS ?= 2

.PHONY: help setup test check demo bench bench-accuracy flash repl clean hil-parallel campaigns hil-micropython

help: ## List the targets
	@echo "Targets (run from the repository root):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'
	@echo "Variables: PORT=$(PORT) BOARD=$(BOARD) ROMFS=$(ROMFS) PYTEST_WORKERS=$(PYTEST_WORKERS) PYTEST_ARGS=..."

setup: $(SETUP_STAMP) $(STUB_STAMPS) $(EMPTY_ENV) ## Create .venv, install the project with dev extras and the board stubs

$(SETUP_STAMP): pyproject.toml
	@test -n "$(BOOT_PYTHON)" || { echo "error: python3.11 or python3 not found" >&2; exit 1; }
	test -x $(PY) || $(BOOT_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.stubs/%/.setup-stamp: pyproject.toml $(SETUP_STAMP)
	rm -rf .stubs/$*
	$(PY) -m pip install --quiet --target .stubs/$* \
		$$($(PY) scripts/extra_requirements.py stubs-$*)
	touch $@

$(EMPTY_ENV):
	mkdir -p $@

test: check ## Run `check`, the unit tests, the HIL suite on the CPython and MicroPython runtimes
	@echo "== pytest: tests/ hil_tests/ (CPython runtime) on $(PYTEST_WORKERS) workers"; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) -ra $(PYTEST_ARGS) tests hil_tests; rc=$$?; \
	if [ $$rc -eq 0 ]; then \
		echo "== pytest: hil_tests/ on the MicroPython VM (weeks-long tests: make hil-micropython)"; \
		$(PY) -m pytest -n $(PYTEST_WORKERS) -ra -m "not long" --dut-runtime micropython \
			$(PYTEST_ARGS) hil_tests; rc=$$?; fi; \
	if [ $$rc -eq 5 ]; then echo "make test FAILED: pytest collected no tests" >&2; \
	elif [ $$rc -ne 0 ]; then echo "make test FAILED: pytest exit code $$rc" >&2; \
	else echo "make test: checks and tests passed"; fi; \
	exit $$rc

hil-micropython: setup ## The whole HIL suite on the MicroPython VM, weeks-long tests included
	$(PY) -m pytest -n $(PYTEST_WORKERS) -ra --dut-runtime micropython $(PYTEST_ARGS) hil_tests

check: setup ## Compile firmware with mpy-cross, lint with ruff, type-check with pyright
	@failed=""; \
	echo "== firmware: mpy-cross compile, portable core, pyright port coverage"; \
	$(PY) scripts/check_firmware.py || failed="$$failed firmware"; \
	echo "== ruff"; \
	$(VENV)/bin/ruff check --output-format concise . || failed="$$failed ruff"; \
	echo "== pyright: firmware/ against the MicroPython stubs"; \
	$(VENV)/bin/pyright -p pyrightconfig.firmware.json || failed="$$failed pyright-firmware"; \
	echo "== pyright: host, simulator, tests and scripts against CPython"; \
	$(VENV)/bin/pyright -p pyrightconfig.json || failed="$$failed pyright-cpython"; \
	if [ -n "$$failed" ]; then echo "make check FAILED:$$failed" >&2; exit 1; fi; \
	echo "make check: all passed"

demo: setup ## Start the simulator and walk a scripted therapy through pumpctl
	$(PY) scripts/demo.py

bench: setup ## Run the benchmarks: JSON on stdout, out/bench/report.html (docs/bench.md)
	$(PY) scripts/bench.py

bench-accuracy: setup ## Only the delivery accuracy benchmark (docs/accuracy.md)
	$(VENV)/bin/pump-sim bench accuracy

hil-parallel: setup ## Run the HIL suite under pytest-xdist, one simulator per test
	$(PY) -m pytest -n auto -ra $(PYTEST_ARGS) hil_tests

campaigns: setup ## Full campaigns: fuzz, 90-day soak on both runtimes, fleet, power cuts
	@failed=""; \
	$(PY) scripts/campaign_fuzz.py || failed="$$failed fuzz"; \
	$(PY) scripts/campaign_soak.py || failed="$$failed soak"; \
	$(PY) scripts/campaign_fleet.py || failed="$$failed fleet"; \
	if [ -f scripts/campaign_powercut.py ]; then \
		$(PY) scripts/campaign_powercut.py || failed="$$failed powercut"; fi; \
	if [ -n "$$failed" ]; then echo "make campaigns FAILED:$$failed" >&2; exit 1; fi; \
	echo "make campaigns: all passed; figures in out/campaigns/"

flash: setup ## Compile and copy the firmware to a board: make flash PORT=/dev/ttyACM0 BOARD=pico [ROMFS=1: packages in a ROMFS image]
	$(PY) scripts/flash.py --port $(PORT) --board $(BOARD) $(if $(filter-out 0,$(ROMFS)),--romfs)

repl: setup ## Open the MicroPython REPL of a board: make repl PORT=/dev/ttyACM0
	$(VENV)/bin/mpremote connect $(PORT) repl

clean: ## Remove .venv, .stubs and build/test caches
	rm -rf $(VENV) .stubs build out *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
