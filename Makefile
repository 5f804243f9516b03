# pyha: Python OCF resource agents. `make check` runs every test; `make demo` shows them work.
SHELL := /bin/bash
PYTHON ?= /usr/bin/python3
VENV := .venv
PREFIX ?= /usr
DESTDIR ?=
OCF_ROOT ?= $(PREFIX)/lib/ocf
PROVIDER_DIR ?= $(OCF_ROOT)/resource.d/pyha
SHIM_DIR ?= $(OCF_ROOT)/lib/pyha
MANDIR ?= $(PREFIX)/share/man
SBINDIR ?= $(PREFIX)/sbin
PYTHON_SITELIB ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' ocflib/__init__.py)
AGENTS := $(sort $(wildcard agents/*-py))
RPMBUILD_DIR ?= $(CURDIR)/build/rpmbuild
# Debian's rpm runs brp-compress (which gzips the manual pages) as #!/bin/sh, which is
# dash here, and the script needs bash, as /bin/sh is on RHEL: here it is run by bash.
RPMBUILD_ARGS ?= $(if $(wildcard /etc/debian_version),--define "__os_install_post /bin/bash %{_rpmconfigdir}/brp-compress %{_prefix}")
DIST_DIR ?= $(CURDIR)/build/dist
DEB_DIR ?= $(CURDIR)/build/deb
TARBALL := $(DIST_DIR)/pyha-$(VERSION).tar.gz
MANPAGES := $(patsubst agents/%,build/man/ocf_pyha_%.7,$(AGENTS))
# ocflib's modules as the packages ship them: all of them (the test doubles live in tests/).
SHIPPED_PY = $(shell find ocflib -name '*.py' | sort)

.PHONY: all setup check check-installed lint typecheck test unit metadata man install uninstall dist rpm deb matrix bench bench-failover bench-galera demo soak clean

all: check

setup:
	bash .ci/setup

# The README's test command: installs what it needs, lints and type-checks; then the
# tests with integration tests enforced, in two phases. First, alone, what measures
# failovers or keeps the CPU busy: the lab (namespace clusters, the UML DRBD cluster) and
# the UML integration tests (SERIAL_TESTS, through `make test`). Then, side by side
# (lab/matrix.py: most of their time goes to waiting on processes, each has namespaces
# of its own): this machine's other tiers (unit, property, contract, integration), the
# .deb installed with apt and the integration and contract tests run against its agents
# (purged afterwards), and the platform matrix (Debian 11 and 13 root trees, their tiers
# and clusters).
SERIAL_TESTS := tests/lab tests/integration/test_drbd_real.py tests/integration/test_uml_host.py
check: setup lint typecheck
	$(MAKE) test PYTEST_ARGS="$(SERIAL_TESTS)"
	$(MAKE) deb
	$(VENV)/bin/python lab/matrix.py --host-log build/matrix/bookworm.log --installed \
		--host-tiers $(MATRIX_ARGS)

check-installed: deb
	bash .ci/installed

# Every platform: Debian 12 is this machine (the whole suite, `make test`, run once per
# make invocation; `make check` runs the same in its two phases, above); Debian 11 (Python 3.9, Pacemaker
# 2.0) and Debian 13 (Python 3.13, Pacemaker 3.0, and a cluster of its own) from root
# trees built with debootstrap and cached in /var/cache/pyha/roots (lab/roots.py,
# lab/matrix.py). MATRIX_ARGS narrows the other releases' part.
matrix: setup test
	$(VENV)/bin/python lab/matrix.py --host-log build/matrix/bookworm.log $(MATRIX_ARGS)

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The library and agents are checked for RHEL 9's Python 3.9; tests and bench run on the
# test machine's Python (pytest itself needs 3.10+).
typecheck:
	$(VENV)/bin/mypy ocflib $(AGENTS)
	$(VENV)/bin/mypy --python-version 3.11 tests bench lab demo packaging/manpage.py

# Its output is also kept in build/matrix/bookworm.log (make matrix's Debian 12 line).
test:
	@mkdir -p build/matrix
	set -o pipefail; OCFLIB_REQUIRE_INTEGRATION=1 $(VENV)/bin/python -m pytest -q --durations=25 \
		-p no:cacheprovider $(PYTEST_ARGS) 2>&1 | tee build/matrix/bookworm.log

unit:
	$(VENV)/bin/python -m pytest -q tests/unit tests/property

# metadata/<agent>.xml are generated from the agents' specs; never edit them by hand.
metadata:
	@for agent in $(AGENTS); do \
		env -i $(PYTHON) -IS $$agent meta-data > metadata/$$(basename $$agent).xml || exit 1; \
	done

# ocf_pyha_<agent>(7), from each agent's meta-data (itself rendered from the spec).
man: $(MANPAGES)

build/man/ocf_pyha_%.7: metadata/%.xml packaging/manpage.py ocflib/__init__.py docs/agents.md docs/differences.md
	@mkdir -p build/man
	$(PYTHON) packaging/manpage.py $< > $@.tmp && mv $@.tmp $@

# Agents into the OCF provider directory (0755), with _OCFLIB_DIR pointing at the installed
# ocflib; ocflib where $(PYTHON) imports it, with each agent's rendered meta-data (printed
# without importing the agent); the ocf.py shim for OCF_FUNCTIONS_DIR; the manual pages.
# Byte-compiled here only for a direct install (DESTDIR empty); the packages compile the
# Debian or the RPM way. `make uninstall` with the same variables removes it all.
install: man
	install -d $(DESTDIR)$(PROVIDER_DIR) $(DESTDIR)$(PYTHON_SITELIB) $(DESTDIR)$(SHIM_DIR) $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	sed -e 's|^_OCFLIB_DIR = None$$|_OCFLIB_DIR = "$(PYTHON_SITELIB)"|' \
	    -e '1s|^#!.*|#!$(PYTHON) -IS|' bin/pyha > $(DESTDIR)$(SBINDIR)/pyha
	chmod 0755 $(DESTDIR)$(SBINDIR)/pyha
	install -m 0644 packaging/pyha.8 $(DESTDIR)$(MANDIR)/man8/pyha.8
	for agent in $(AGENTS); do \
		sed -e 's|^_OCFLIB_DIR = None$$|_OCFLIB_DIR = "$(PYTHON_SITELIB)"|' \
		    -e '1s|^#!.*|#!$(PYTHON) -IS|' $$agent > $(DESTDIR)$(PROVIDER_DIR)/$$(basename $$agent); \
		chmod 0755 $(DESTDIR)$(PROVIDER_DIR)/$$(basename $$agent); \
	done
	for f in $(SHIPPED_PY); do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(PYTHON_SITELIB)/$$f"; done
	for agent in $(AGENTS); do \
		install -m 0644 metadata/$$(basename $$agent).xml $(DESTDIR)$(PYTHON_SITELIB)/ocflib/agents/; \
	done
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man7/
	ln -sfn $$(realpath -m --relative-to=$(SHIM_DIR) $(PYTHON_SITELIB)/ocflib/ocf.py) $(DESTDIR)$(SHIM_DIR)/ocf.py
	[ -n "$(DESTDIR)" ] || $(PYTHON) -m compileall -q $(PYTHON_SITELIB)/ocflib

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PROVIDER_DIR)/,$(notdir $(AGENTS)))
	rm -f $(DESTDIR)$(SHIM_DIR)/ocf.py
	rm -f $(patsubst build/man/%,$(DESTDIR)$(MANDIR)/man7/%,$(MANPAGES))
	rm -f $(DESTDIR)$(SBINDIR)/pyha $(DESTDIR)$(MANDIR)/man8/pyha.8
	rm -rf $(DESTDIR)$(PYTHON_SITELIB)/ocflib
	-rmdir $(DESTDIR)$(PROVIDER_DIR) $(DESTDIR)$(SHIM_DIR) 2>/dev/null

# The release tarball, from the files of this tree (a git checkout or an unpacked
# tarball: no git needed). It holds the spec, so `rpmbuild -ta` builds from it.
dist:
	@mkdir -p $(DIST_DIR)
	rm -f $(TARBALL)
	find . \( -path ./.git -o -path ./.venv -o -path ./build -o -path ./dist -o -path ./rpmbuild \
		-o -path ./lab-logs -o -path './*.egg-info' -o -name __pycache__ -o -name .mypy_cache \
		-o -name .pytest_cache -o -name .ruff_cache -o -name .hypothesis \) -prune \
		-o \( -type f -o -type l \) -print | sed 's|^\./||' | LC_ALL=C sort > $(DIST_DIR)/files
	tar --create --gzip --file $(TARBALL) --files-from $(DIST_DIR)/files \
		--transform 's|^|pyha-$(VERSION)/|' --owner=0 --group=0 --numeric-owner \
		--mtime=@$$(stat -c %Y ocflib/__init__.py) --sort=name
	@echo $(TARBALL)

# A noarch RPM from the release tarball, as a packager builds it (rpmbuild -ta).
rpm: dist
	rm -rf $(RPMBUILD_DIR) && mkdir -p $(RPMBUILD_DIR)
	rpmbuild --define "_topdir $(RPMBUILD_DIR)" $(RPMBUILD_ARGS) -ta $(TARBALL)
	@ls $(RPMBUILD_DIR)/RPMS/noarch/*.rpm

# A .deb with Debian's tooling (debian/, dpkg-buildpackage), from the release tarball.
deb: dist
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	tar -xzf $(TARBALL) -C $(DEB_DIR)
	cd $(DEB_DIR)/pyha-$(VERSION) && dpkg-buildpackage --build=binary --no-sign -us -uc
	@ls $(DEB_DIR)/*.deb

# The bench runs on the test virtualenv's interpreter (the system python3 with the test
# tools): the drbd and guest cases reuse the integration tests' lab helpers.
bench: setup
	$(VENV)/bin/python bench/bench.py --write BENCHMARKS.md $(BENCH_ARGS)

demo: setup
	$(PYTHON) demo/demo.py $(DEMO_ARGS)

# Hard failovers in a row with every acknowledged commit checked (not in CI: minutes each).
SOAK_ARGS ?= --kind uml --failovers 10
soak: setup
	$(PYTHON) bench/soak.py $(SOAK_ARGS)

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
