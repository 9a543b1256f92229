# Developer and CI entry points for django-torgovo-subscriptions.
#
#   make venv    .venv (default python3) with uv, tox and tox-uv
#   make test    the whole tox matrix (make test TOX_ARGS="-e py312-django60")
#   make demo    migrate + seed the example host (SQLite) and run it on :8000
#   make clean   remove build/test artefacts (keeps .venv; see distclean)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
VENV_BIN := $(CURDIR)/$(VENV)/bin
VENV_STAMP := $(VENV)/.tools-stamp
TOOLS := uv tox tox-uv
TOX_ARGS ?=

# Interpreters of the matrix: the real pyenv version directories (the pyenv
# shims only resolve pythonX.Y for an *activated* version, so they are no use
# to tox/uv). A missing interpreter makes tox fail (skip_missing_interpreters
# = false in tox.ini), it is never skipped.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY_BIN_DIRS := $(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.11.*/bin)) \
               $(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.12.*/bin)) \
               $(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.13.*/bin))
empty :=
space := $(empty) $(empty)
PY_PATH := $(subst $(space),:,$(strip $(PY_BIN_DIRS)))
TEST_PATH := $(VENV_BIN)$(if $(PY_PATH),:$(PY_PATH)):$(PATH)

# What the example host runs on: the package with its OpenAPI extra (schema,
# Swagger UI and ReDoc served from local files), DATABASE_URL parsing, and
# django-cors-headers for a browser frontend on another origin. The test
# dependency group in pyproject.toml has the same.
EXAMPLE_HOST_DEPS := -e ".[openapi]" dj-database-url django-cors-headers

.PHONY: venv test demo openapi clean distclean

venv: $(VENV_STAMP)

$(VENV_STAMP):
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade $(TOOLS)
	touch $@

# uv must use the interpreters found on PATH and never try to download one
# (no network here besides package registries; a download would only hide a
# missing interpreter). tox.ini also sets uv_python_preference = only-system.
# build/ is removed first: setuptools reuses build/lib when tox builds the
# wheel in-tree, so a module deleted from the source could linger in the wheel.
test: venv
	rm -rf build
	@echo "interpreter dirs: $(if $(PY_PATH),$(PY_PATH),NONE FOUND under $(PYENV_ROOT_DIR)/versions)"
	PATH="$(TEST_PATH)" UV_PYTHON_DOWNLOADS=never \
		$(VENV_BIN)/tox run $(TOX_ARGS)

# The demo host runs on SQLite (example_project/db.sqlite3): DATABASE_URL is
# deliberately dropped so a value left in the shell cannot redirect it.
demo: venv
	$(VENV_BIN)/uv pip install --quiet --python $(VENV_BIN)/python $(EXAMPLE_HOST_DEPS)
	cd example_project && env -u DATABASE_URL $(VENV_BIN)/python manage.py migrate --noinput
	cd example_project && env -u DATABASE_URL $(VENV_BIN)/python manage.py seed_demo
	cd example_project && env -u DATABASE_URL $(VENV_BIN)/python manage.py runserver 127.0.0.1:8000

# Regenerate docs/openapi.yaml from the code (tests/test_openapi.py checks it).
openapi: venv
	$(VENV_BIN)/uv pip install --quiet --python $(VENV_BIN)/python $(EXAMPLE_HOST_DEPS)
	cd example_project && $(VENV_BIN)/python manage.py spectacular --validate --fail-on-warn --file ../docs/openapi.yaml

clean:
	rm -rf .tox build dist .pytest_cache .hypothesis .coverage htmlcov *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
