# inception: a bare Debian target to a hardened WordPress, in one command.
#   make up     bring the stack up (see README)
#   make test   every test tier, from a fresh venv (the VM tier included): two lanes, then vm and swarm alone
# `make help` lists every verb.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0

# The persistent container target by default; INVENTORY=inventory/vm for the VM.
INVENTORY ?= inventory/container
TARGET_INVENTORY := $(INVENTORY)
# Every shell script of the repository (the tree's own are checked in the unit tier).
SHELL_SCRIPTS := $(shell grep -l '^\#!.*bash' scripts/* .ci/run) $(wildcard benchmarks/reference-stack/*/*.sh) \
  $(wildcard roles/*/files/*.sh roles/*/files/*/*.sh)
# testinfra against that target
TESTINFRA_TARGET := --hosts=all --connection=ansible --ansible-inventory=$(TARGET_INVENTORY)

.DEFAULT_GOAL := help
.PHONY: help up test prerequisites venv lint unit molecule submission-tier upgrade-tier swarm-tier submission vm box target target-verify rehearsal target-destroy benchmark benchmark-size images docs clean

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-15s %s\n", $$1, $$2 }'

up: venv ## Bring the stack up (a VM where a provider is usable, else the container target)
	scripts/up

test: prerequisites venv images ## Every tier: molecule | lint, unit, submission, upgrade side by side, then vm (a real VM) and swarm alone
	scripts/test-tiers

prerequisites: ## Install the Debian packages the tests need (when missing) and start Docker and libvirt
	scripts/prerequisites

venv: $(VENV)/.installed ## The pinned Python toolchain in .venv

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

lint: venv ## yamllint, ansible-lint (production), ruff, syntax checks of playbooks and scripts
	yamllint --strict .
	ansible-lint --profile production
	ruff check .
	ruff format --check .
	ansible-playbook --syntax-check -i $(TARGET_INVENTORY) site.yml swarm.yml playbooks/container_target.yml playbooks/submission.yml playbooks/restore.yml
	shellcheck $(SHELL_SCRIPTS)

# Two workers (pytest-xdist): the tier is mostly ansible-playbook runs, each
# on one core (430 tests: 151 s, against 220 s on one worker, on 2026-12-04);
# tests/unit/conftest.py keeps the tests that build images on one worker.
unit: venv ## Unit tests: role specs, templates, pre-flight refusals, toolchain pins
	pytest -n 2 --dist loadgroup tests/unit

molecule: venv ## The throw-away container target, end to end
	molecule test

submission-tier: venv ## The submission tier: export, clone on a fresh target with only Docker and make, run the evaluator's steps
	molecule test --scenario-name submission

upgrade-tier: venv ## The upgrade tier: a bookworm site upgraded in place to Debian 13's WordPress and MariaDB
	molecule test --scenario-name upgrade

swarm-tier: venv ## The swarm tier: three container targets joined into one Docker Swarm; one killed, the others carry on, it rejoins
	molecule test --scenario-name swarm

# The inventory whose settings the exported tree gets (the VM's by default).
SUBMISSION_INVENTORY ?= inventory/vm
submission: venv ## Export the tree as a git repository to hand in: make submission DEST=<dir>
	@[ -n "$(DEST)" ] || { echo "Usage: make submission DEST=<folder> [SUBMISSION_INVENTORY=inventory/vm]"; exit 2; }
	scripts/submission "$(DEST)" $(SUBMISSION_INVENTORY)

vm: venv ## The VM tier: vagrant up (libvirt), the suite against the VM, provision, reload, destroy
	pytest -v -p no:cacheprovider tests/vm

box: ## Build the Debian 13 libvirt box from Debian's archive and add it to Vagrant (reused when up to date)
	scripts/build-vagrant-box

target: venv ## Create and provision the persistent container target (left running)
	ansible-playbook -i $(TARGET_INVENTORY) playbooks/container_target.yml
	ansible-playbook -i $(TARGET_INVENTORY) site.yml

target-verify: venv ## Run the testinfra suite against the persistent container target
	pytest $(TESTINFRA_TARGET) tests/integration

rehearsal: venv ## Rehearse the evaluation on a provisioned target: one PASS/FAIL line per step
	pytest $(TESTINFRA_TARGET) tests/integration --rehearsal -q -p no:cacheprovider

target-destroy: venv ## Remove the persistent container target and its Docker volume
	ansible-playbook -i $(TARGET_INVENTORY) playbooks/container_target.yml -e container_target_state=absent

benchmark: venv ## Measure provisioning, serving, footprint and rebuild on a throw-away target, beside an untuned reference stack (~8 min)
	scripts/benchmark

benchmark-size: venv ## The same pages on the default small site and on a large one (10,000 posts; fixture cached in .cache/) (~12 min)
	scripts/benchmark-size

images: ## Build the base and target images from Debian's archive (reused when up to date)
	scripts/build-debian-image --suite bookworm --tag debian:bookworm --try-pull --save .cache/images/debian-bookworm.tar.gz
	scripts/build-debian-image --suite trixie --tag inception-target:trixie --systemd

docs: ## Render docs/architecture.svg and docs/swarm.svg from their .dot sources (Graphviz)
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg
	dot -Tsvg docs/swarm.dot -o docs/swarm.svg

clean: ## Remove the venv and the caches (not the generated secrets in .inception/)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
