# Rapport: `make run` starts the coach, `make test` runs the whole suite.
# Both set everything up first on a fresh clone (a Python 3.10 is all they need).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/rapport.tar.gz
SPACY_MODEL := var/spacy/rapport_en/meta.json
WIDGET := widget/node_modules/.package-lock.json

# Settings from .env when present, else these defaults (see .env.example).
-include .env
# Every setting .env names reaches the servers, not only the ones with a default below.
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' .env 2>/dev/null)
export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055
export WEB_PORT ?= 8000
export TRACKER_DB ?= var/tracker.db
# Web pages besides the web app's own that may embed the coach (comma-separated origins).
export WEB_ORIGINS ?=
# The review dashboard at /review (see the README): its session key, first admin. Its
# database (REVIEW_DB_URL) and the canvas store's (CANVAS_DB_URL) default to var/ in the
# code (bot/review/db.py, bot/coach/store/store.py), or come from .env.
export REVIEW_SECRET_KEY ?=
export REVIEW_ADMIN_USER ?=
export REVIEW_ADMIN_PASSWORD ?=
export REVIEW_ORIGIN ?=
export REVIEW_COOKIE_SECURE ?=
export REVIEW_SESSION_HOURS ?=
# The custom actions run inside the Rasa server unless ACTIONS_URL names a separate
# action server (bot/plugins/patches/local_actions.py; the scaled set-up does). An
# action server listens on loopback and takes calls only from the Rasa server,
# which sends ACTIONS_TOKEN. Unless the environment or .env sets one, a random
# token is made once into var/actions_token (git ignores var/), so `make run`
# needs nothing by hand. Recursive (=) so that it is only made when a recipe runs.
export ACTIONS_HOST ?= 127.0.0.1
# Empty: actions in the Rasa server. Else where it reaches the action server
# (http://127.0.0.1:$(ACTIONS_PORT)/webhook; another machine: https or a private network).
export ACTIONS_URL ?=
ifeq ($(strip $(ACTIONS_TOKEN)),)
export ACTIONS_TOKEN = $(shell umask 077 && mkdir -p var && { [ -s var/actions_token ] || \
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/actions_token; } && cat var/actions_token)
endif
# TensorFlow is loud at start-up; its warnings say nothing about the coach.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED := 1

TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
	$(wildcard bot/knowledge/*.yml) bot/coach/extract.py bot/coach/phrases.py bot/plugins/nlu/vocabulary_extractor.py bot/plugins/nlu/intent_classifier.py $(SPACY_MODEL)

.PHONY: help setup widget train run run-scaled reliability shell test validate lock clean print-actions-token lint format

help:
	@echo "make run    set up, train if the training data changed, start the coach"
	@echo "make run-scaled  the same on PostgreSQL, Redis, two Rasa servers and nginx (docs/deploy.md)"
	@echo "make test   set up and run the whole test suite"
	@echo "make reliability  kill each process of make run-scaled once under load (docs/reliability.md)"
	@echo "make shell  talk to a running coach (make run) in the terminal"
	@echo "make lint   ruff's checks and format check (CI runs it)"

$(VENV)/.installed: requirements.lock scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

setup: $(VENV)/.installed $(SPACY_MODEL)

$(SPACY_MODEL): $(VENV)/.installed bot/plugins/nlu/spacy_model.py
	$(PY) -m bot.plugins.nlu.spacy_model var/spacy/rapport_en

# The web widget's npm packages (rasa-webchat, html-to-image), exactly as
# widget/package-lock.json pins them; npm's download cache stays in .cache/npm.
$(WIDGET): widget/package.json widget/package-lock.json
	@command -v npm >/dev/null || { echo "The web widget needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; }
	cd widget && npm ci --cache ../.cache/npm
	@touch $@

widget: $(WIDGET)

# Rasa trains only when one of its inputs is newer than the model.
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	@mkdir -p var
	$(RASA) train --fixed-model-name rapport --out models --quiet
	@touch $@

train: $(MODEL)

# var/ holds the founders' data and the secrets: the servers run with umask 077, so
# every file they make there (tracker.db, canvas.db, review.db, widget_secret) is the
# owner's only; files from before are made so too. var/ itself is 711: others may not
# list or read it, only pass through (the scaled set-up's PostgreSQL, another user,
# keeps its cluster in var/scaled/).
PRIVATE_VAR := umask 077 && mkdir -p var && chmod 711 var && \
	find var -maxdepth 1 -type f -exec chmod go-rwx {} +

run: setup train widget
	@$(PRIVATE_VAR)
	@echo ""
	@echo "Rapport is starting (the Rasa server takes about 15 seconds to load):"
	@echo "  widget:  http://localhost:$(WEB_PORT)/"
	@echo "  review:  http://localhost:$(WEB_PORT)/review   (first user: python -m bot users add NAME --role admin)"
	@echo "  REST:    curl -s localhost:$(RASA_PORT)/webhooks/rest/webhook -d '{\"sender\": \"me\", \"message\": \"hi\"}'"
	@echo "  shell:   make shell   (in another terminal)"
	@echo ""
	umask 077 && $(VENV)/bin/honcho start -f Procfile

# The scaled set-up (docs/deploy.md): PostgreSQL, Redis, two Rasa servers and two
# action servers behind nginx, and the web app. Installs the Debian packages it
# needs when they are missing (as root), and says what it starts.
run-scaled: setup train widget
	@mkdir -p var
	$(PY) -m deploy.run_scaled

# The scaled set-up's kill run at full size: every kind of process (a Rasa server, an
# action server, the web app, Redis, PostgreSQL, nginx) killed once with SIGKILL under
# load, through `make run-scaled` itself (tests/test_run_scaled.py; `make test` runs a
# small version). The figures of docs/reliability.md go to docs/reliability.json.
reliability: setup train widget
	RELIABILITY=full RELIABILITY_REPORT=docs/reliability.json $(PY) -m pytest tests/test_run_scaled.py -p no:cacheprovider
	SCALEOUT_SMALL=0 $(PY) -m pytest tests/test_scaleout_faults.py -p no:cacheprovider

# The terminal chat: Rasa's shell runs the same patched server as `make run` on its
# own loopback port (SHELL_PORT), beside the running one, with the custom actions
# inside it (or the action server ACTIONS_URL names) and the same stores (deploy/launchers.py).
export SHELL_PORT ?= 5006
shell: setup train
	$(PY) -m deploy.launchers shell

validate: setup
	$(RASA) data validate --fail-on-warnings

# ruff (pinned in requirements.lock, settings in ruff.toml): its checks, and the
# formatting as ruff formats it. `make format` rewrites the files.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The scale-out fault scenarios run small here; `make reliability` runs them at full size.
# The test files run in TEST_WORKERS processes (pytest-xdist), each file whole on one
# worker, the files sharing the coach together, the longest first (tests/conftest.py).
# TEST_WORKERS=0 runs them all in this one process.
TEST_WORKERS ?= 2
test: setup train widget
	SCALEOUT_SMALL=$${SCALEOUT_SMALL:-1} $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lock: $(VENV)/.installed
	$(PY) -m pip install -r requirements.in
	( echo "# Generated by 'make lock' from requirements.in; install with pip install -r requirements.lock"; \
	  $(PY) -m pip freeze --all | grep -v '^pip==' ) > requirements.lock

# For tests: says that a token exists, never what it is.
print-actions-token:
	@echo "$${#ACTIONS_TOKEN} characters"

clean:
	rm -rf models var/spacy .rasa

# Benchmarks against the stock Rasa bot, written to docs/benchmarks.{md,json}
# (about 45 minutes on 2 cores). BENCH_ARGS passes options, e.g. --quick for a
# small check run, or --resume DIR to go on with a stopped run.
.PHONY: bench
bench: setup train
	$(PY) -m bench $(BENCH_ARGS)
