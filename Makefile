# The two set-up commands: `make run` and `make test`. Each installs what it needs first.
.PHONY: install run read test bench

VENV := .venv/bin
FILE ?= examples/sample.png

install:
	scripts/install.sh

run: install
	$(VENV)/percept serve

read: install
	$(VENV)/percept read $(FILE) --format text

test: install
	$(VENV)/ruff check percept tests benchmarks
	$(VENV)/ruff format --check percept tests benchmarks
	$(VENV)/mypy percept
	$(VENV)/python -m pytest -n 2 -q

bench: install
	$(VENV)/python benchmarks/run_all.py
