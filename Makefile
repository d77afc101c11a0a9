# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

.PHONY: install lock demo test test-airflow run up docs bench bench-extraction soak lint clean

install: $(STAMP)

# Rebuilt only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null; \
	  $(PY) -m pip install -q --disable-pip-version-check "$$(grep '^uv==' requirements.lock)"; }
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	@touch $(STAMP)

# Re-resolve the direct dependencies of requirements.in into exact pins; the image's
# runtime-only lock takes the same versions (constrained by requirements.lock).
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28
lock:
	$(UV) pip compile -q requirements.in -o requirements.lock $(LOCK_TARGET)
	$(UV) pip compile -q requirements-runtime.in -c requirements.lock -o requirements-runtime.lock $(LOCK_TARGET)

demo: install
	$(PY) -m devtools.demo

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup

# Only the tests that start real Airflow (dag.test(), scheduler, api-server, Celery workers,
# backfill). They fit in the normal suite, so `make test` runs them as well.
test-airflow: install
	$(PY) -m pytest tests/dags tests/e2e

run: install
	$(VENV)/bin/news-etl run tengrinews --latest

# A quarter of backfill (90 days x 40 articles of a synthetic site) through the real scheduler
# under injected faults; not part of `make test`. SOAK_ARGS="--days 10 --per-day 20" for a short one.
soak: install
	$(PY) -m devtools.soak $(SOAK_ARGS)

# docs/analysts.md from the schema's comments (NEWS_ETL_DATABASE_URL, else the embedded database).
docs: install
	$(PY) -m devtools.analysts_doc

# Rebuilds the image when the Dockerfile, the runtime lock or the project changed.
up:
	docker compose up -d --build

# Every benchmark prints its figures as ratios against a baseline measured in
# the same run. BENCH_ARGS=--quick gives a small smoke version of each.
# Each bench exits 1 when it misses its goal; all of them run, then the misses are named.
bench: install
	@failed=""; for f in bench/*_bench.py; do \
	  [ "$$f" = bench/extraction_bench.py ] && continue; \
	  echo "=== $$f"; $(PY) $$f $(BENCH_ARGS) || failed="$$failed $$f"; done; \
	  if [ -n "$$failed" ]; then echo "missed goals:$$failed"; exit 1; fi

# Extraction quality on the three sets of ../shared/benchmarks (bodies, titles, authors,
# dates): `news-etl extract --manifest` scored next to trafilatura and htmldate, same run.
bench-extraction: install
	$(PY) bench/extraction_bench.py --cli $(BENCH_ARGS)

clean:
	rm -rf .data/demo
