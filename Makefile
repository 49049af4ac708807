# The two commands of the README: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint check install lock browser screenshots

# Each README command installs what it needs from a lock (requirements/, written by `make lock`
# from pyproject.toml's ranges), with hashes, so a new machine gets the versions tested here. A
# stamp per lock: a changed lock or pyproject.toml installs again.
# A venv left without pip (Debian's python3 lacks ensurepip until python3-venv is installed) is
# removed, so the next try starts afresh.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Python's venv failed: on Debian or Ubuntu, install python3-venv" >&2; exit 1; }

# uv installs the locks (about 20 s on a new machine where pip took 80); pip installs uv, from a
# lock of its own.
$(BIN)/uv: requirements/uv.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/uv.txt
	touch $@
INSTALL := $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode

# Running: the runtime dependencies and the project itself, nothing for tests.
$(BIN)/.run-installed: requirements/run.txt pyproject.toml $(BIN)/uv
	$(INSTALL) --require-hashes -r requirements/run.txt
	$(INSTALL) --no-deps -e .
	touch $@

# Testing and checking: the test extra too.
$(BIN)/.installed: requirements/test.txt $(BIN)/.run-installed
	$(INSTALL) --require-hashes -r requirements/test.txt
	touch $@

install: $(BIN)/.installed

# The locks, from pyproject.toml, for every platform. They keep their versions where pyproject.toml
# still allows them; `make lock LOCK_ARGS=--upgrade` takes the newest. The run lock takes the test
# lock's versions, so `make run` runs what `make test` tested.
LOCK := $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" --quiet $(LOCK_ARGS)
lock: install
	$(LOCK) pyproject.toml --extra test -o requirements/test.txt
	$(LOCK) pyproject.toml --constraints requirements/test.txt -o requirements/run.txt
	echo uv | $(LOCK) - --constraints requirements/test.txt -o requirements/uv.txt

# The browser tests drive Debian's chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

run: $(BIN)/.run-installed
	$(BIN)/assessments run

# The code guards its own shape: format, lint (ruff), layers (import-linter), then types (mypy).
# The README's walkthrough and the console's test in headless Chromium, and the report test,
# keeping the pictures they take on the way as the docs' screenshots.
screenshots: install browser
	ASSESSMENTS_SCREENSHOTS=docs/screenshots PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q \
		tests/e2e/test_walkthrough.py tests/e2e/test_console_in_browser.py \
		tests/simulators/test_reports.py

lint: install
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check --quiet .
	$(BIN)/lint-imports --no-cache

check: lint
	$(BIN)/mypy

# Six pytest-xdist workers: on two cores about 6 min, where one process takes 17 (its tests wait
# on real clocks, leaving a core idle). Each worker collects the tests and starts a stack (about
# 17 s of CPU), yet fills idle time: five left 65 s of CPU idle and took 10 s longer than six (41
# s idle); four, 160 s idle. `make test TEST_WORKERS=0` runs one process. tests/conftest.py says
# how workers share the tests.
TEST_WORKERS ?= 6
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE, as some
# images set): each of the hundreds of Python processes a run starts would otherwise compile our
# modules again, and each worker rewrite every test module's assertions again.
# The quick checks (lint, after the install) come first, while chromium installs beside them: both
# mostly wait on downloads. mypy, 20 s of a core on a new machine, runs beside pytest, whose
# workers leave CPU idle while they wait on clocks, and prints its findings after the tests.
test:
	@$(MAKE) --no-print-directory --jobs=2 lint browser
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & types=$$!; \
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --numprocesses $(TEST_WORKERS); tests=$$?; \
	wait $$types; typed=$$?; echo "mypy:"; cat $(VENV)/mypy.log; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]
