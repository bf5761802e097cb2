# SEC GO! — `make run` serves the demo on SQLite; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := secgo
# Local demo over plain HTTP: cookies must not require HTTPS.
run: export SECGO_SECURE_COOKIES ?= 0

.PHONY: run install test lint migrate seed translations screenshots clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate setup.cfg pyproject.toml
	bash scripts/system-deps.sh build
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

lint: install
	$(BIN)/ruff check secgo tests

# Extract every marked string (Python, templates, JS) and merge it into the five catalogs;
# a missing catalog is created. The .mo files are compiled when the app starts.
TRANSLATION_LOCALES := km lo my th vi
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3 --project="SEC GO!" --version=0.1 --copyright-holder="SEC GO! contributors" --add-comments=TRANSLATORS: --no-location --no-wrap --sort-output -o translations/messages.pot .
	for l in $(TRANSLATION_LOCALES); do \
	  if [ -f translations/$$l/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i translations/messages.pot -d translations -l $$l --no-fuzzy-matching --ignore-obsolete --no-wrap; \
	  else \
	    $(BIN)/pybabel init -i translations/messages.pot -d translations -l $$l --no-wrap; \
	  fi; \
	done

clean:
	rm -rf $(VENV) instance .pytest_cache
