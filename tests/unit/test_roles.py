"""Every role input is declared, defaulted and prefixed in one way.

A role's inputs live in defaults/main.yml and are declared in
meta/argument_specs.yml; the two must not drift apart (the trap the
dev-sec hardening collection fell into).
"""

from __future__ import annotations

import pytest

from tests.support.ansible_run import REQUIRED, run_role_here
from tests.support.project import ROLES, load_yaml


def _spec(role):
    return load_yaml(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_defaults_hold_exactly_the_optional_inputs(role):
    defaults = load_yaml(role / "defaults" / "main.yml") or {}
    optional = {name for name, option in _spec(role).items() if not option.get("required")}
    assert set(defaults) == optional


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_inputs_are_prefixed_with_the_role_name(role):
    assert [name for name in _spec(role) if not name.startswith(role.name + "_")] == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_spec_defaults_equal_the_role_defaults(role):
    defaults = load_yaml(role / "defaults" / "main.yml") or {}
    for name, option in _spec(role).items():
        if option.get("required"):
            # A required input has no default anywhere: a run without it stops.
            assert "default" not in option, name
            assert name not in defaults, name
        else:
            assert option.get("default") == defaults[name], name


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_input_is_described(role):
    assert [name for name, option in _spec(role).items() if not option.get("description")] == []


def test_role_vars_do_not_shadow_inputs():
    for role in ROLES:
        internal = load_yaml(role / "vars" / "main.yml") or {}
        assert set(internal).isdisjoint(_spec(role)), role.name


def test_a_role_run_without_a_required_input_stops_naming_it(tmp_path):
    # host_layout would create an account and folders on this machine: the
    # argument spec stops it first.
    code, report = run_role_here(tmp_path, "host_layout", {"host_layout_domain": "jdoe.42.fr"})
    assert code != 0
    tasks = report["plays"][0]["tasks"]
    assert len(tasks) == 1  # the argument validation, nothing after it
    message = tasks[0]["hosts"]["localhost"]["msg"]
    assert "missing required arguments: host_layout_login" in message


@pytest.mark.parametrize("seconds", [0, 301])
def test_the_stack_role_refuses_an_apcu_time_out_of_range_before_it_changes_anything(tmp_path, seconds):
    role_vars = {k: v for k, v in REQUIRED.items() if k.startswith("inception_stack_")}
    role_vars |= {
        "inception_stack_object_cache_apcu_ttl": seconds,
        "inception_stack_dir": str(tmp_path / "tree"),
    }
    code, report = run_role_here(tmp_path, "inception_stack", role_vars)
    assert code != 0
    tasks = report["plays"][0]["tasks"]
    failed = [task for task in tasks if task["hosts"]["localhost"].get("failed")]
    assert [task["task"]["name"] for task in failed] == [
        "inception_stack : Check that the object cache's APCu time is 1 to 300 seconds"
    ]
    assert "inception_stack_object_cache_apcu_ttl: must be" in failed[0]["hosts"]["localhost"]["msg"]
    assert failed[0] is tasks[-1]
    assert not (tmp_path / "tree").exists()


@pytest.mark.parametrize("seconds", [-1, "ten"])
def test_the_recovery_role_refuses_a_bad_delay_before_it_looks_at_the_machine(tmp_path, seconds):
    # It stops before it reads the machine's facts or touches its kernel
    # settings (this machine's own, here).
    code, report = run_role_here(tmp_path, "host_recovery", {"host_recovery_panic_reboot_s": seconds})
    assert code != 0
    tasks = report["plays"][0]["tasks"]
    failed = [task for task in tasks if task["hosts"]["localhost"].get("failed")]
    assert failed == tasks[-1:], [task["task"]["name"] for task in tasks]
    assert "host_recovery_panic_reboot_s" in failed[0]["hosts"]["localhost"]["msg"]
