# The two commands of the README. Each creates .venv and installs FleetBench on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Headless Chromium for the browser tests, from Debian's package (Playwright drives it; it downloads no browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test lint protos bench bench-openoa screenshots

$(BIN)/fleetbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

demo: $(BIN)/fleetbench
	rm -rf demo-output
	$(BIN)/fleetbench simulate --operators 10 --turbines 5 --months 3 --seed 7 --out demo-output

# Two workers, a test file each at a time: the deployment tests (mostly waiting on Flower's polls) run
# beside the rest, which keeps the suite under 15 minutes on two cores.
test: $(BIN)/fleetbench $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The docs' pictures: the browser tests save the screenshots the docs use into docs/images (tests/browser.py).
screenshots: $(BIN)/fleetbench $(CHROMIUM)
	FLEETBENCH_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/python -m pytest -q tests/server/dashboard/test_browser.py \
		tests/client/test_report.py tests/client/test_solar_report.py

lint: $(BIN)/fleetbench
	$(BIN)/ruff check .

protos: $(BIN)/fleetbench
	$(BIN)/python -m protos.generate

bench: $(BIN)/fleetbench
	$(BIN)/python bench/summary_throughput.py

# OpenOA (the reference for issue 4's benchmark) needs pandas < 3: it gets its own environment.
bench-openoa: $(BIN)/fleetbench
	test -x .venv-openoa/bin/python || $(PYTHON) -m venv .venv-openoa
	.venv-openoa/bin/python -m pip install --quiet openoa==3.2 pyarrow
	$(BIN)/python bench/openoa_comparison.py
