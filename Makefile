# nvgre-nve: the two commands a newcomer needs are `make run` and `make test`.
# Both bootstrap a fresh Debian machine by themselves (scripts/bootstrap.sh).

VENV     ?= .venv
PY       := $(VENV)/bin/python
PYTEST   := $(VENV)/bin/pytest
ARGS     ?=
PYTEST_ARGS ?=

.PHONY: all bootstrap run test test-fast lint test-bmv2 bench p4info p4names clean p4-tofino lock fuzz-bmv2

all: test

bootstrap:
	@scripts/bootstrap.sh

# The main job: two p4sim switches, the controller and tenant hosts (see README).
run: bootstrap
	@$(PY) -m demo $(ARGS)

# Static checks first, so a lint or type error is reported in seconds, then every test
# (the 25 slowest are listed at the end: where the suite's time goes).
test: bootstrap lint
	@$(PYTEST) --durations=25 $(PYTEST_ARGS)

# The same without the tests marked slow (each takes more than a few seconds).
test-fast: bootstrap lint
	@$(PYTEST) -m "not slow" $(PYTEST_ARGS)

lint: bootstrap
	@$(VENV)/bin/ruff check --quiet .
	@$(VENV)/bin/ruff format --check --quiet .
	@$(VENV)/bin/mypy

test-bmv2: bootstrap
	@$(PYTEST) ptf_tests --target bmv2 $(PYTEST_ARGS)

bench: bootstrap
	@$(PY) -m bench $(ARGS)

# p4sim against bmv2's simple_switch_grpc on generated traffic (root, p4lang's bmv2;
# not run by CI: bmv2 is slow). ARGS="--frames 2000 --seed 7"; see docs/fuzzing.md.
fuzz-bmv2: bootstrap
	@PYTHONPATH=ptf_tests $(PY) -m fuzz $(ARGS)

# Regenerate runtime/nve/p4names.py (the controller's P4 names) after changing the program's
# API; a test fails while it is stale.
p4names: bootstrap
	@$(PY) -m nve.p4names_gen

p4info: bootstrap
	@mkdir -p out
	@$(VENV)/bin/p4sim compile p4src/v1model/nvgre_nve.p4 -I p4src/include \
	    --p4info out/nvgre_nve.p4info.txtpb -o out/nvgre_nve.p4sim.json

# The Tofino (TNA) program, with a Tofino-capable p4c (open-source Tofino backend or
# the SDE's bf-p4c). Not run by CI; see docs/tna.md. P4C=... picks the compiler.
P4C ?= p4c
p4-tofino:
	@if ! command -v $(P4C) >/dev/null 2>&1 || ! $(P4C) --target tofino --arch tna --help >/dev/null 2>&1; then \
	    echo "p4-tofino: no p4c with the Tofino backend ('$(P4C) --target tofino --arch tna' unavailable); install one or set P4C=" >&2; \
	    exit 1; \
	fi
	@mkdir -p out/tofino
	$(P4C) --target tofino --arch tna -I p4src/include -I p4src/tna \
	    -D NVE_PROFILE_TOFINO -o out/tofino \
	    --p4runtime-files out/tofino/nvgre_nve.p4info.txtpb --p4runtime-force-std-externs \
	    p4src/tna/nvgre_nve.p4
	@python3 scripts/tna_resources.py out/tofino/pipe/context.json

# Regenerate requirements.lock from pyproject.toml after changing a dependency there:
# versions already locked are kept where they still fit; UPGRADE=1 takes the newest
# releases of everything. The lock is for CPython 3.11 on x86_64 Linux.
UPGRADE ?=
lock: bootstrap
	@$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra dev \
	    --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	    --quiet $(if $(UPGRADE),--upgrade) \
	    -o requirements.lock

clean:
	rm -rf out .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# The TNA program feature set by feature set (NVE_TNA_STEP=1..6, small sizes): result,
# MAU stages and compile time per step (docs/tna.md). P4C=..., PROFILE=..., STEPS="1 3".
STEPS ?= 1 6
.PHONY: p4-tofino-steps
p4-tofino-steps:
	@P4C=$(P4C) scripts/tna_steps.sh $(STEPS)
