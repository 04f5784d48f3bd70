# chanarchive — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshots clean

# Create the virtualenv and install the project with its test extras.
# Re-runs when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# pywb, which the tests replay WACZ exports with, in a virtualenv of its own: it pins
# redis 2.x, which chanarchive's own redis client cannot live beside.
REPLAY := $(VENV)/replay
REPLAY_STAMP := $(REPLAY)/.installed

$(REPLAY_STAMP): tests/replay-requirements.txt
	test -x $(REPLAY)/bin/python || $(PYTHON) -m venv $(REPLAY)
	$(REPLAY)/bin/python -m pip install --quiet -r tests/replay-requirements.txt
	touch $(REPLAY_STAMP)

demo: $(STAMP)
	$(BIN)/chanarchive demo

test: $(STAMP) $(REPLAY_STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

# The README's pictures of the pages (needs Debian's chromium and fonts-wqy-microhei).
screenshots: $(STAMP)
	docs/screenshots/take.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
