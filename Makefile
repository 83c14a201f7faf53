# Two commands for a fresh machine: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every package, exact version and sha256 hashes (all of each version's files), for CPython
# 3.11 on Linux x86_64: what `make demo`, `make test` and CI install. `make lock` refreshes it.
LOCK   := requirements.lock
UV_VERSION := 0.13.9

.PHONY: demo serve test test-tools bench lint lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip itself comes first, pinned (requirements-pip.lock: the venv's own pip let an extra of a
# dependency pick a newer release than the lock's).
# The lock holds every dependency (with the test, dev and cluster extras); the package itself is
# installed editable without dependencies. pip check then fails if pyproject.toml asks for
# something the lock does not hold (run `make lock`).
$(STAMP): $(BIN)/python $(LOCK) requirements-pip.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Re-resolve pyproject.toml's ranges into the lock (needs PyPI). Versions already locked are
# kept while they still satisfy the ranges; `make lock LOCKFLAGS=--upgrade` moves everything
# to the newest allowed (then compare output bytes before committing), and
# `LOCKFLAGS='--upgrade-package pypdf'` moves one package.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev --extra cluster --generate-hashes \
	    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	    --custom-compile-command 'make lock' --quiet $(LOCKFLAGS) -o $(LOCK)

demo: $(STAMP)
	$(BIN)/python -m kenpo_docs.demo output/demo

# The staff web page at http://127.0.0.1:8539 (its data folder: KENPO_DOCS_DATA, the config
# file's data, else output/). The first account, once: .venv/bin/kenpo-docs user add NAME
# --role admin. Options through SERVEFLAGS, e.g. make serve SERVEFLAGS=--no-approval
serve: $(STAMP)
	$(BIN)/kenpo-docs serve $(SERVEFLAGS)

# Lint first (seconds): CI (.ci/run) calls `make test`, so findings fail the build before
# the suite's minutes are spent. The test files run side by side, one pytest-xdist worker per
# core (at most 4: many tests start merges with worker pools of their own); a file's tests stay
# in one worker, so a file's shared fixtures are built once. TESTFLAGS adds options, e.g.
# make test TESTFLAGS='-n 0' runs everything in one process.
test: $(STAMP) lint test-tools
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile $(TESTFLAGS)

# The tests read back what we print with poppler too (pdftotext, pdftoppm: the third reader
# beside pypdf and pdfium), drive the web page in Debian's chromium (playwright's own browser
# download is not reachable here; tests/web/conftest.py launches /usr/bin/chromium), and
# convert the Word twins with LibreOffice to compare their pages with our PDFs
# (tests/test_word.py adds the vendored fonts through its own fontconfig file; nothing is
# installed system-wide). What is missing is installed through apt in one go when possible
# (CI runs as root); otherwise the tests that need it say what to install (the browser tests
# fail, never skip).
TOOLS := pdftotext:poppler-utils chromium:chromium soffice:libreoffice-writer-nogui
test-tools:
	@missing=""; for t in $(TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && { timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 \
	         apt-get install -y -qq --no-install-recommends $$missing; } >/dev/null 2>&1; } \
	  || echo "note: could not install$$missing: the tests that need it will fail or say so"

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Both tools run even when the first reports findings; the target fails if either does.
lint: $(STAMP)
	status=0; \
	$(BIN)/ruff check kenpo_docs tests bench || status=1; \
	$(BIN)/mypy kenpo_docs || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) output build *.egg-info
