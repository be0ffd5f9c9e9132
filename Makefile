# provision — the two commands a newcomer needs: `make demo` and `make test`.
# Both do their own set-up, idempotently: a virtualenv in .venv, the Pulumi CLI,
# OPA, the Temporal CLI and the fast HCL reader built from Go modules and Azurite from npm, all cached outside the clone
# (~/.cache/provision, keyed by version) so fresh clones and CI reuse them.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PULUMI_VERSION := $(shell sed -n 's/.*"pulumi==\([0-9.]*\)".*/\1/p' pyproject.toml)
OPA_VERSION := $(shell sed -n 's/^OPA_VERSION = "\([0-9.]*\)"/\1/p' provision/policy/opa.py)
# fake-gcs-server honours Cloud Storage preconditions: the GCS lock-store tests use it.
FAKE_GCS_VERSION := $(shell sed -n 's/^FAKE_GCS_VERSION = "\([0-9.]*\)"/\1/p' tests/providers/gcp/test_gcs_state_store.py)
TEMPORAL_VERSION := $(shell sed -n 's/^TEMPORAL_CLI_VERSION = "\([0-9.]*\)"/\1/p' provision/executor/temporal_server.py)
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PROVISION := $(BIN)/provision
CACHE  ?= $(or $(PROVISION_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/provision)
# checkov (used by a test on Terraform-plan exports) pins dependencies that clash
# with ours, so it lives in its own tool environment in the cache.
CHECKOV_VERSION := 3.3.30
CHECKOV := $(CACHE)/tools/checkov-$(CHECKOV_VERSION)/bin/checkov

.PHONY: setup bytecode pulumi opa temporal fake-gcs azurite hclread test demo demo-down typecheck bench clean

setup: $(STAMP) pulumi opa temporal fake-gcs azurite hclread bytecode

$(CHECKOV): | $(STAMP)
	UV_TOOL_DIR=$(CACHE)/tools/checkov-$(CHECKOV_VERSION)/tools \
	UV_TOOL_BIN_DIR=$(CACHE)/tools/checkov-$(CHECKOV_VERSION)/bin \
	  $(BIN)/uv tool install -q --python $(PYTHON) checkov==$(CHECKOV_VERSION)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# The project's own modules compiled ahead, as the installed packages are: every CLI run and
# every provider process imports them, and with PYTHONDONTWRITEBYTECODE set (CI images often
# set it) Python would otherwise compile them again in each process.
bytecode: | $(STAMP)
	@$(BIN)/python -m compileall -q -j0 provision providers policies >/dev/null

pulumi:
	@bash .ci/build-pulumi.sh $(PULUMI_VERSION) >/dev/null

opa:
	@bash .ci/build-opa.sh $(OPA_VERSION) >/dev/null

temporal:
	@bash .ci/build-temporal.sh $(TEMPORAL_VERSION) >/dev/null

fake-gcs:
	@bash .ci/build-fake-gcs.sh $(FAKE_GCS_VERSION) >/dev/null

azurite:
	@bash .ci/install-azurite.sh >/dev/null

# The fast HCL reader (tools/hclread); without it HCL specs are read with python-hcl2.
hclread:
	@bash .ci/build-hclread.sh >/dev/null

test: setup $(CHECKOV)
	$(BIN)/python -m mypy
	CHECKOV=$(CHECKOV) $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

typecheck: setup
	$(BIN)/python -m mypy

demo: setup
	@bash .ci/demo.sh

demo-down: setup
	-$(PROVISION) destroy stacks/demo.yaml --env local --yes
	$(PROVISION) sandbox down

bench: setup
	$(BIN)/python bench/planner.py

clean:
	rm -rf $(VENV) .provision .pytest_cache .mypy_cache
