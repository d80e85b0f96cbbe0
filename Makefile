# Each target sets up .venv on first use (scripts/dev.py); only Python 3.11+ is needed.
PYTHON ?= python3

.PHONY: demo test test-fast lint bench setup
demo:
	$(PYTHON) scripts/dev.py demo $(ARGS)
test:
	$(PYTHON) scripts/dev.py test $(ARGS)
test-fast:
	$(PYTHON) scripts/dev.py test-fast $(ARGS)
lint:
	$(PYTHON) scripts/dev.py lint
bench:
	$(PYTHON) scripts/dev.py bench $(ARGS)
setup:
	$(PYTHON) scripts/dev.py setup
