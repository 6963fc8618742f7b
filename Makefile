# xuexi — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/xuexi
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run serve test test-sqlite test-postgres lint format worker beat messages lock \
        install install-dev migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: requirements/base.lock | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.lock
	touch $(VENV)/.base $@

# Browser libraries come from npm, pinned by package-lock.json, and are served by the project
# (no CDN, ADR 0012): `npm ci` when they are missing or the lock changed, then only the built
# files the pages load are copied to vendor/ (a STATICFILES_DIRS entry).
ECHARTS_JS := vendor/echarts/echarts.min.js
node_modules/echarts/dist/echarts.min.js: package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund
	touch $@
$(ECHARTS_JS): node_modules/echarts/dist/echarts.min.js
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(dir $@)

install: $(VENV)/.base $(ECHARTS_JS)
install-dev: $(VENV)/.dev $(ECHARTS_JS)

migrate: install
	$(MANAGE) migrate --no-input -v 0

demo: migrate
	$(MANAGE) seed_demo

## make run — set up everything and serve http://127.0.0.1:8000 (HTTP + WebSocket, one process)
run: demo serve

serve: install
	@echo "xuexi is serving on http://$(HOST):$(PORT)/  (SMS codes go to var/sms-outbox.jsonl)"
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off

## make test — the whole suite on SQLite, then on PostgreSQL + Redis when they answer
test: install-dev
	@scripts/browser-deps.sh || [ -z "$$CI" ]
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$DATABASE_URL" ] || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL pass"; fi

test-sqlite: install-dev
	@echo "== tests on SQLite, local-memory cache =="
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: install-dev
	@echo "== tests on PostgreSQL$$( (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && echo ' + Redis') =="
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} CONN_MAX_AGE=0 \
	REDIS_URL=$${REDIS_URL:-$$( (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && echo $(REDIS_TEST_URL))} \
	  $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench — province-scale benchmarks on PostgreSQL: generates the data when missing or of
## another scale (BENCH_SCALE=1.0 is the whole province, 5.4 M members), then prints the tables
## (organisations, then points, then reports, then content; then quizzes on a database of its own,
## BENCH_QUIZ_DATABASE_URL); BENCH_REDIS_URL=redis://…/14 also ranks on Redis;
## the content benchmark serves pages with granian and loads them with wrk (scripts/bench-deps.sh)
BENCH_SCALE ?= 0.05
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/xuexi_bench
BENCH_REDIS_URL ?=
BENCH_CONTENT_REDIS_URL ?= redis://127.0.0.1:6379/12
# The quiz benchmark's own database (a bench province and a 100,000-question bank), so that its
# attempts and points never mix with the points and reports benchmarks' ledger.
BENCH_QUIZ_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/xuexi_bench_quiz
.PHONY: bench
bench: install
	$(BIN)/python -m bench.generate --if-needed --scale $(BENCH_SCALE) --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python -m bench.organizations --database-url $(BENCH_DATABASE_URL)
	$(BIN)/python -m bench.points --database-url $(BENCH_DATABASE_URL) \
	  $(if $(BENCH_REDIS_URL),--redis-url $(BENCH_REDIS_URL))
	$(BIN)/python -m bench.reports --database-url $(BENCH_DATABASE_URL)
	@scripts/bench-deps.sh
	$(BIN)/python -m bench.content --database-url $(BENCH_DATABASE_URL) \
	  --redis-url "$(BENCH_CONTENT_REDIS_URL)"
	$(BIN)/python -m bench.generate --if-needed --scale $(BENCH_SCALE) --database-url $(BENCH_QUIZ_DATABASE_URL)
	$(BIN)/python -m bench.quizzes --database-url $(BENCH_QUIZ_DATABASE_URL)

## Production-style background jobs (needs REDIS_URL)
worker: install
	$(BIN)/celery -A config worker -l info
beat: install
	$(BIN)/celery -A config beat -l info

## Translations: rebuild the compiled catalogues from locale/*/LC_MESSAGES/django.po
messages: install
	$(MANAGE) compilemessages -v 0 --ignore=$(VENV)

## Regenerate the lock files after editing pyproject.toml (needs `pip install uv`)
lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements/base.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements/dev.lock

clean:
	rm -rf $(VENV) var/static .mypy_cache .ruff_cache node_modules vendor/echarts
