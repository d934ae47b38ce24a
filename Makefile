# ptfe.ops: `make test` runs everything, `make demo` runs playbooks/install.yml against local stand-ins.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     ?= $(CURDIR)/.venv
TMP      := $(CURDIR)/.tmp
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed-$(shell cat requirements-test.txt requirements.txt | sha256sum | cut -c1-12)
COLL_DIR := $(TMP)/collections
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_DIR)
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0
export NO_COLOR := 1
export MOLECULE_NO_LOG := false
export PTFE_OPS_ROOT := $(CURDIR)

.PHONY: help test test-fresh demo venv host collection images sanity lint unit integration integration-only molecule \
        molecule-only build benchmark clean docs-lint docs-site

# Parallelism of the Molecule stage (scenarios side by side) and of the integration stage (pytest-xdist
# workers). Integration tests spend more than half their time waiting on servers and containers, so they
# get twice the core count.
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
INTEGRATION_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))

help:
	@echo "make test   - set up a virtualenv and a Docker engine, then run sanity, lint, unit, integration and molecule"
	@echo "make demo   - run playbooks/install.yml end to end against local stand-ins and print what it did"
	@echo "make test-fresh - make test in a fresh clone of HEAD, with an empty HOME and throwaway image tags"
	@echo "stages: venv host images sanity lint docs-lint docs-site unit integration molecule build benchmark"

# venv and host first; then the image builds (waiting on the mirror and the disk) beside sanity and beside
# build, lint and unit; then integration beside Molecule. hack/test.sh prints every stage's time.
test:
	@hack/test.sh

$(STAMP): requirements-test.txt requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP) collection

# The collection is found by Ansible through ANSIBLE_COLLECTIONS_PATH as ansible_collections/ptfe/ops.
collection:
	@mkdir -p $(COLL_DIR)/ansible_collections/ptfe
	@ln -sfn $(CURDIR) $(COLL_DIR)/ansible_collections/ptfe/ops

host:
	hack/ensure-host.sh

# The Debian images build two at a time (debootstrap waits mostly on the package mirror and the disk), then the
# TFE FDO stand-in on top of debian12. The firewall and fdo scenarios' targets run a nested Docker engine; their
# create step finds debian12-docker cached, the fdo scenario's prepare the stand-in, the external-mode tests
# debian12-postgres.
images: host
	@mkdir -p $(TMP)
	@rm -f $(TMP)/images.env
	@hack/parallel 2 image:debian12='tests/images/build.sh debian12 > $(TMP)/image-debian12.ref' \
	  image:debian12-docker='tests/images/build.sh debian12-docker > $(TMP)/image-debian12-docker.ref' \
	  image:debian12-postgres='tests/images/build.sh debian12-postgres > $(TMP)/image-debian12-postgres.ref'
	@tests/images/tfe-fdo/build.sh > $(TMP)/image-tfe-fdo.ref
	@set -e; { echo "PTFE_TEST_IMAGE=$$(tail -1 $(TMP)/image-debian12.ref)"; \
	  echo "PTFE_TEST_DOCKER_IMAGE=$$(tail -1 $(TMP)/image-debian12-docker.ref)"; \
	  echo "PTFE_TEST_POSTGRES_IMAGE=$$(tail -1 $(TMP)/image-debian12-postgres.ref)"; \
	  echo "PTFE_TEST_TFE_FDO_IMAGE=$$(tail -1 $(TMP)/image-tfe-fdo.ref)"; } > $(TMP)/images.env
	@cat $(TMP)/images.env

sanity: venv
	hack/sanity.sh

lint: venv
	ansible-lint --offline

# The documentation a docs build would render: every plugin's and role's markup (references to options, return
# values, other plugins) and the guides under docs/docsite, linted as antsibull-docs reads them.
docs-lint: venv
	cd $(COLL_DIR)/ansible_collections/ptfe/ops && antsibull-docs lint-collection-docs --plugin-docs .

# The docs site: HTML of every module, plugin and role and the guides, built offline by antsibull-docs and
# Sphinx, failing on any warning; it goes to .tmp/docs-site/.
docs-site: venv
	hack/docs-build.sh

unit: venv
	pytest -q tests/unit

# Tests share nothing (each starts its own servers on free ports and names its containers uniquely), so they
# go to parallel workers one by one, but for the files whose tests share one target, which go whole; tests marked
# slow are handed out first (both in tests/integration/conftest.py).
integration: venv images
	@$(MAKE) --no-print-directory integration-only

integration-only:
	pytest -q -n $(INTEGRATION_JOBS) --durations=25 tests/integration

# Scenarios share nothing either (own platform names, own networks); each one's output is kept in a log and
# printed whole when it ends, so the logs do not interleave.
molecule: venv images
	@$(MAKE) --no-print-directory molecule-only

# The -only targets use the images `make images` last built, without building again: `make test` runs them
# side by side after its images stage.
molecule-only:
	@set -a; . $(TMP)/images.env; set +a; hack/parallel $(JOBS) $(foreach s,$(SCENARIOS),molecule:$(s)='molecule test -s $(s)')

test-fresh:
	hack/test-fresh.sh

# The collection builds, and the tarball installs.
build: venv
	@rm -rf $(TMP)/build && mkdir -p $(TMP)/build/install
	ansible-galaxy collection build --force --output-path $(TMP)/build .
	ansible-galaxy collection install --force --offline --no-deps -p $(TMP)/build/install $(TMP)/build/ptfe-ops-*.tar.gz
	test -f $(TMP)/build/install/ansible_collections/ptfe/ops/MANIFEST.json
	@set -e; for r in $$(ls roles); do \
	  ANSIBLE_COLLECTIONS_PATH=$(TMP)/build/install ansible-doc -t role -j ptfe.ops.$$r | $(BIN)/python -c \
	    'import json, sys; doc = json.load(sys.stdin)["ptfe.ops.'$$r'"]; n = len(doc["entry_points"]["main"]["options"]); \
	     assert doc["path"].startswith("$(TMP)/build/install/"), doc["path"]; print("installed role ptfe.ops.'$$r': %d options documented" % n)'; \
	done

demo: venv images
	@set -a; . $(TMP)/images.env; set +a; $(BIN)/python hack/demo.py

# The tool_versions module at N=300 versions; then install.yml's first converge against an idempotent re-run.
benchmark: venv
	$(BIN)/python tests/benchmarks/tool_versions.py
	$(BIN)/python tests/benchmarks/state_migrate.py
	$(BIN)/python tests/benchmarks/install_rerun.py

clean:
	rm -rf $(TMP) tests/output
