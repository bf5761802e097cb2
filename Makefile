# SEC GO! — `make run` serves the demo on SQLite; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := secgo
# Local demo over plain HTTP: cookies must not require HTTPS.
run: export SECGO_SECURE_COOKIES ?= 0

LOCK := requirements/lock.txt

.PHONY: run install test lint lock migrate seed translations screenshots clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Exactly the versions in the lock (hash-checked), then the project itself without resolving
# anything: a fresh machine gets what the test suite passed with.
$(VENV)/.installed: $(BIN)/activate $(LOCK) setup.cfg pyproject.toml
	bash scripts/system-deps.sh build
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install
	bash scripts/system-deps.sh browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-resolve every dependency to the newest version setup.cfg allows and rewrite the lock
# (with hashes). Run monthly and for security releases; commit the new lock only after
# `make test` passes with it. `make lock UPGRADE=` keeps today's pins where they still fit.
LOCK_TOOLS := .venv-lock
PIP_TOOLS_VERSION := 7.6.2
UPGRADE ?= --upgrade
# Resolve from the public index alone (no local wheel folders), so the hashes are the ones
# every machine downloads.
LOCK_ENV ?= PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS=
lock:
	[ -x $(LOCK_TOOLS)/bin/pip-compile ] || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
	  $(LOCK_TOOLS)/bin/python -m pip install --quiet pip-tools==$(PIP_TOOLS_VERSION); }
	$(LOCK_ENV) $(LOCK_TOOLS)/bin/pip-compile --quiet $(UPGRADE) \
	  --generate-hashes --allow-unsafe --all-extras --strip-extras --no-emit-index-url \
	  --no-emit-find-links --output-file $(LOCK) setup.cfg requirements/build.in

lint: install
	$(BIN)/ruff check secgo tests

# Extract every marked string (Python, templates, JS) and merge it into the five catalogs;
# a missing catalog is created. The catalogs are package data (secgo/translations/); the .mo
# files are compiled when the app starts.
TRANSLATION_LOCALES := km lo my th vi
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3 --project="SEC GO!" --version=0.1 --copyright-holder="SEC GO! contributors" --add-comments=TRANSLATORS: --no-location --no-wrap --sort-output -o secgo/translations/messages.pot .
	for l in $(TRANSLATION_LOCALES); do \
	  if [ -f secgo/translations/$$l/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i secgo/translations/messages.pot -d secgo/translations -l $$l --no-fuzzy-matching --ignore-obsolete --no-wrap; \
	  else \
	    $(BIN)/pybabel init -i secgo/translations/messages.pot -d secgo/translations -l $$l --no-wrap; \
	  fi; \
	done

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) instance .pytest_cache
