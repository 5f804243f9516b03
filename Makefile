# pyha: Python OCF resource agents. `make check` runs every test; `make demo` shows them work.
SHELL := /bin/bash
PYTHON ?= /usr/bin/python3
VENV := .venv
PREFIX ?= /usr
DESTDIR ?=
OCF_ROOT ?= $(PREFIX)/lib/ocf
PROVIDER_DIR ?= $(OCF_ROOT)/resource.d/pyha
SHIM_DIR ?= $(OCF_ROOT)/lib/pyha
PYTHON_SITELIB ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' ocflib/__init__.py)
AGENTS := $(sort $(wildcard agents/*-py))
RPMBUILD_DIR ?= $(CURDIR)/build/rpmbuild

.PHONY: all setup check lint typecheck test unit metadata install rpm bench bench-failover bench-galera demo soak clean

all: check

setup:
	bash .ci/setup

# The README's test command: installs what it needs, then lints, type-checks and runs
# every tier (unit, property, contract, integration) with integration tests enforced.
check: setup lint typecheck test

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The library and agents are checked for RHEL 9's Python 3.9; tests and bench run on the
# test machine's Python (pytest itself needs 3.10+).
typecheck:
	$(VENV)/bin/mypy ocflib $(AGENTS)
	$(VENV)/bin/mypy --python-version 3.11 tests bench lab demo

test:
	OCFLIB_REQUIRE_INTEGRATION=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

unit:
	$(VENV)/bin/python -m pytest -q tests/unit tests/property

# metadata/<agent>.xml are generated from the agents' specs; never edit them by hand.
metadata:
	@for agent in $(AGENTS); do \
		env -i $(PYTHON) -IS $$agent meta-data > metadata/$$(basename $$agent).xml || exit 1; \
	done

# Agents into the OCF provider directory (0755), with _OCFLIB_DIR pointing at the installed
# ocflib; ocflib where $(PYTHON) imports it, with each agent's rendered meta-data (printed
# without importing the agent); the ocf.py shim for OCF_FUNCTIONS_DIR.
install:
	install -d $(DESTDIR)$(PROVIDER_DIR) $(DESTDIR)$(PYTHON_SITELIB) $(DESTDIR)$(SHIM_DIR)
	for agent in $(AGENTS); do \
		sed -e 's|^_OCFLIB_DIR = None$$|_OCFLIB_DIR = "$(PYTHON_SITELIB)"|' \
		    -e '1s|^#!.*|#!$(PYTHON) -IS|' $$agent > $(DESTDIR)$(PROVIDER_DIR)/$$(basename $$agent); \
		chmod 0755 $(DESTDIR)$(PROVIDER_DIR)/$$(basename $$agent); \
	done
	find ocflib -name '*.py' | while read -r f; do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(PYTHON_SITELIB)/$$f"; done
	for agent in $(AGENTS); do \
		install -m 0644 metadata/$$(basename $$agent).xml $(DESTDIR)$(PYTHON_SITELIB)/ocflib/agents/; \
	done
	ln -sfn $$(realpath -m --relative-to=$(SHIM_DIR) $(PYTHON_SITELIB)/ocflib/ocf.py) $(DESTDIR)$(SHIM_DIR)/ocf.py
	[ -n "$(DESTDIR)" ] || $(PYTHON) -m compileall -q $(PYTHON_SITELIB)/ocflib

rpm:
	rm -rf $(RPMBUILD_DIR) && mkdir -p $(RPMBUILD_DIR)/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
	git ls-files -z | tar --null -T - --transform 's|^|pyha-$(VERSION)/|' -czf $(RPMBUILD_DIR)/SOURCES/pyha-$(VERSION).tar.gz
	sed 's/@VERSION@/$(VERSION)/' packaging/rpm/pyha.spec.in > $(RPMBUILD_DIR)/SPECS/pyha.spec
	rpmbuild --define "_topdir $(RPMBUILD_DIR)" --nodeps -ba $(RPMBUILD_DIR)/SPECS/pyha.spec
	@ls $(RPMBUILD_DIR)/RPMS/noarch/*.rpm

# The bench runs on the test virtualenv's interpreter (the system python3 with the test
# tools): the drbd and guest cases reuse the integration tests' lab helpers.
bench: setup
	$(VENV)/bin/python bench/bench.py --write BENCHMARKS.md $(BENCH_ARGS)

demo: setup
	$(PYTHON) demo/demo.py $(DEMO_ARGS)

# Hard failovers in a row with every acknowledged commit checked (not in CI: minutes each).
SOAK_ARGS ?= --kind uml --failovers 10
soak: setup
	$(PYTHON) lab/soak.py $(SOAK_ARGS)

# The whole stack's failover, pyha vs the reference agents, both labs (about half an hour).
bench-failover: setup
	$(PYTHON) bench/failover.py --write BENCHMARKS.md $(BENCH_ARGS)

# galera-py against ocf:heartbeat:galera: the Promoted monitor, and cold start, full
# outage and one-node kill in the three-node Galera lab.
bench-galera: setup
	$(VENV)/bin/python bench/galera.py --write BENCHMARKS.md $(BENCH_ARGS)

clean:
	rm -rf build .mypy_cache .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
