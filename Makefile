# twinlens: `make run` starts the service on its defaults, `make test` runs the test suite.
# Both install what they need first (nothing downloads at run time). `make test-fast` runs the unit and
# API tests only (a few minutes), for daily work.

SHELL := /bin/bash
NODE_BIN := node_modules/.bin
DATA ?= ../shared/data/grocery-dev
PORT ?= 50051
export ONNXRUNTIME_NODE_INSTALL := skip

.PHONY: docs setup build run test test-fast test-slow proto lint model calibrate eval eval-scale bench fuzz loadtest clean bench-index crash-test bench-search-scale setup-training setup-postgres bench-scale-out simulate-sheet adapt

# npm ci only when the lock file changed since the last install.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: node_modules/.installed build

build: node_modules/.installed
	$(NODE_BIN)/tsc -p tsconfig.json

run: setup
	node dist/src/cli/main.js serve --port $(PORT)

# Every suite: the fast tier (unit and real-server API tests), then the slow tier (jest.config.js:
# the tools' tests and *.slow.test.ts). Each tier runs two files side by side: no test asserts a
# timing, and on this 2-core machine one file at a time leaves a core idle while jest starts files.
# Both tiers run even when the first fails; the exit status is the first failure's.
test: setup setup-training setup-postgres
	@fast=0; $(NODE_BIN)/jest --selectProjects fast --maxWorkers $(FAST_WORKERS) || fast=$$?; \
	  $(NODE_BIN)/jest --selectProjects slow --maxWorkers $(SLOW_WORKERS) || exit $$?; exit $$fast

# Unit and real-server API tests: no PyTorch needed.
FAST_WORKERS ?= 2
test-fast: setup setup-postgres
	$(NODE_BIN)/jest --selectProjects fast --maxWorkers $(FAST_WORKERS)

# Fuzz, SIGTERM under load, crash, bench smoke and the training smoke test (which runs Debian's
# PyTorch: installed here when missing). They assert no timings, so two run side by side.
SLOW_WORKERS ?= 2
test-slow: setup setup-training setup-postgres
	$(NODE_BIN)/jest --selectProjects slow --maxWorkers $(SLOW_WORKERS)

# Regenerates the TypeScript types and the descriptor set that reflection serves, from proto/.
# `npm run generate` makes decoded bytes fields views of the received message, not copies (ts-proto
# env=node copies them: 21 MB of garbage per 21 MB upload).
proto: node_modules/.installed
	$(NODE_BIN)/buf lint
	npm run --silent generate
	$(NODE_BIN)/buf build -o proto/twinlens.binpb

lint: node_modules/.installed
	$(NODE_BIN)/buf lint
	$(NODE_BIN)/tsc -p tsconfig.test.json

# Converts the pretrained MobileNetV2-1.4 in the nsfwjs npm package to ONNX (offline) and
# records the TF.js reference outputs the conversion test checks against.
model: node_modules/.installed
	@/usr/bin/python3 -c 'import onnx, numpy' || { echo "make model needs: apt-get install -y python3-onnx python3-numpy"; exit 1; }
	node models/convert/extract-tfjs-weights.js
	/usr/bin/python3 models/convert/build_onnx.py
	node models/convert/record-tfjs-reference.js

# Compare's match threshold, calibrated on generated watch pairs (never on benchmark photos).
calibrate: setup
	node dist/src/cli/main.js calibrate --write

# Training needs Debian's PyTorch (PyPI is unreachable; the pyenv python3 on PATH does not see these).
# Without recommends: they would add some 250 packages (speech data among them) that training never uses.
TRAINING_PY := /usr/bin/python3
TRAINING_PACKAGES := python3-torch python3-torchvision python3-onnx
APT_INSTALL := apt-get install -y --no-install-recommends
setup-training:
	@$(TRAINING_PY) -c 'import torch, torchvision, onnx' 2>/dev/null || { \
	  command -v apt-get >/dev/null || { echo "training needs: $(TRAINING_PACKAGES) (Debian)"; exit 1; }; \
	  $(APT_INSTALL) $(TRAINING_PACKAGES) || { apt-get update && $(APT_INSTALL) $(TRAINING_PACKAGES); }; }

# PostgreSQL 15 + pgvector for the store=postgres backend and its tests (test/helpers/postgres.ts
# starts a throwaway cluster per suite). Debian's server and headers when missing (no recommends),
# then pgvector built from the vendored source when PostgreSQL has no vector.so. Needs root.
PG_BIN := /usr/lib/postgresql/15/bin
PG_PACKAGES := postgresql-15 postgresql-server-dev-15
PGVECTOR_TARBALL ?= ../shared/vendor/pgvector-0.8.6.tar.gz
PGVECTOR_BUILD := .tmp/pgvector-build
setup-postgres:
	@test -x $(PG_BIN)/initdb -a -f /usr/include/postgresql/15/server/postgres.h || { \
	  command -v apt-get >/dev/null || { echo "PostgreSQL needs: $(PG_PACKAGES) (Debian)"; exit 1; }; \
	  $(APT_INSTALL) $(PG_PACKAGES) || { apt-get update && $(APT_INSTALL) $(PG_PACKAGES); }; }
	@test -f "$$($(PG_BIN)/pg_config --pkglibdir)/vector.so" || { \
	  test -f $(PGVECTOR_TARBALL) || { echo "pgvector source missing: $(PGVECTOR_TARBALL)"; exit 1; }; \
	  rm -rf $(PGVECTOR_BUILD) && mkdir -p $(PGVECTOR_BUILD) && tar xzf $(PGVECTOR_TARBALL) -C $(PGVECTOR_BUILD) --strip-components 1 && \
	  $(MAKE) -C $(PGVECTOR_BUILD) PG_CONFIG=$(PG_BIN)/pg_config && \
	  $(MAKE) -C $(PGVECTOR_BUILD) PG_CONFIG=$(PG_BIN)/pg_config install; }

# A picture of simulated photos (generated watches, or CATALOG=path/catalog.csv).
SHEET ?= docs/simulated-photos.png
simulate-sheet: setup
	node dist/src/cli/main.js simulate --sheet $(SHEET) --views 7 --sheet-items 5 $(if $(CATALOG),--catalog $(CATALOG))

# Adapt the model to a catalog (CATALOG=path/catalog.csv or a folder; OUT, BUDGET_MINUTES optional).
BUDGET_MINUTES ?= 60
adapt: setup setup-training
	node dist/src/cli/main.js adapt --catalog $(CATALOG) --budget-minutes $(BUDGET_MINUTES) $(if $(OUT),--out $(OUT))

# Recall@1/@5 and MRR on the benchmark in $(DATA), overall and per top_category, shortlist-only and
# reranked; Compare's ROC AUC and TAR at 1% FAR; HTML report of failed queries in reports/.
# MODEL=path/manifest.json picks the model; EVAL_FLAGS=--adapt adapts a copy on $(DATA)'s catalog first.
eval: setup
	node dist/src/cli/main.js eval --catalog $(DATA)/catalog.csv --queries $(DATA)/queries.csv $(if $(MODEL),--model $(MODEL)) $(EVAL_FLAGS)

bench: setup
	node dist/tools/dev.js bench

# twinlens eval at catalog size with the service defaults, timed: 1,500 generated watches and 600
# simulated photos of them (made once in SCALE_DIR). A speed check: its Recall says nothing about real photos.
SCALE_DIR ?= data/eval-scale
eval-scale: setup
	@test -f $(SCALE_DIR)/queries.csv || node dist/tools/dev.js synthetic-benchmark --out $(SCALE_DIR) --items 1500 --queries 600
	time node dist/src/cli/main.js eval --catalog $(SCALE_DIR)/catalog.csv --queries $(SCALE_DIR)/queries.csv --no-report

# Vector index: recall@10 vs exact, latency, build time and memory per item on INDEX_COUNT clustered
# synthetic vectors (f32, f16, i8, i8+rescore, b1 binary codes + rescore), under the shared CPU lock.
INDEX_COUNT ?= 1000000
INDEX_ARGS ?=
bench-index: setup
	flock /tmp/twinlens-cpu.lock node --expose-gc dist/tools/dev.js bench-index --count $(INDEX_COUNT) $(INDEX_ARGS)

# End-to-end Search over gRPC with 3,000 and 1,000,000 catalog items (synthetic vectors of the model's
# dimension; SCALE_MODEL should be a 256-d model: 1M x 1,792-d would need ~10 GB).
SCALE_MODEL ?= models/mobilenet_v2_140/manifest.json
SCALE_SIZES ?= 3000,1000000
bench-search-scale: setup
	flock /tmp/twinlens-cpu.lock node dist/tools/dev.js bench-search-scale --sizes $(SCALE_SIZES) --model $(SCALE_MODEL)

# pgvector beside the embedded store on SCALE_OUT_COUNT clustered synthetic vectors: recall@10 vs exact
# search, and Search p50/p95 through the service at 1 and 2 store=postgres replicas (a throwaway
# PostgreSQL cluster; SCALE_OUT_COUNT=1000000 for the 1M figures). The service's default model (256-d)
# unless SCALE_OUT_MODEL names another. See docs/scale-out.md.
SCALE_OUT_COUNT ?= 100000
SCALE_OUT_ARGS ?=
bench-scale-out: setup setup-postgres
	flock /tmp/twinlens-cpu.lock node dist/tools/dev.js bench-scale-out --count $(SCALE_OUT_COUNT) $(if $(SCALE_OUT_MODEL),--model $(SCALE_OUT_MODEL)) $(SCALE_OUT_ARGS)

# kill -9 at random points during a 100,000-item bulk ingest, 20 times (precomputed vectors through
# the catalog API; the CI test runs 4 rounds over 8,000 items).
crash-test: setup
	flock /tmp/twinlens-cpu.lock node dist/tools/dev.js crash-test --items 100000 --rounds 20 --max-run-ms 4000

# Mutated images through a server child process (the CI test sends fewer); FUZZ_SEED picks the cases.
FUZZ_COUNT ?= 10000
FUZZ_SEED ?= 1
fuzz: setup
	node dist/tools/dev.js fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

# 64 clients (Search, Compare, UpsertItems) for LOADTEST_DURATION_S against a server child process on loopback.
LOADTEST_DURATION_S ?= 300
loadtest: setup
	node dist/tools/dev.js loadtest --duration $(LOADTEST_DURATION_S)

clean:
	rm -rf dist data

# The configuration tables (README.md compact, docs/configuration.md full) from the option schema.
docs: build
	node dist/tools/docs/options-table.js --write docs/configuration.md
	node dist/tools/docs/options-table.js --write README.md --style compact
