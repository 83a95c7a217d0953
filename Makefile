# nvgre-nve: the two commands a newcomer needs are `make run` and `make test`.
# Both bootstrap a fresh Debian machine by themselves (scripts/bootstrap.sh).

VENV     ?= .venv
PY       := $(VENV)/bin/python
PYTEST   := $(VENV)/bin/pytest
ARGS     ?=
PYTEST_ARGS ?=

.PHONY: all bootstrap run test test-bmv2 bench p4info clean

all: test

bootstrap:
	@scripts/bootstrap.sh

# The main job: two p4sim switches, the controller and tenant hosts (see README).
run: bootstrap
	@$(PY) -m nve.demo $(ARGS)

test: bootstrap
	@$(PYTEST) $(PYTEST_ARGS)

test-bmv2: bootstrap
	@$(PYTEST) ptf_tests --target bmv2 $(PYTEST_ARGS)

bench: bootstrap
	@$(PY) -m bench $(ARGS)

p4info: bootstrap
	@mkdir -p out
	@$(VENV)/bin/p4sim compile p4src/v1model/nvgre_nve.p4 -I p4src/include \
	    --p4info out/nvgre_nve.p4info.txtpb -o out/nvgre_nve.p4sim.json

clean:
	rm -rf out .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
