"""Every role input is declared, defaulted and prefixed in one way.

A role's inputs live in defaults/main.yml and are declared in
meta/argument_specs.yml; the two must not drift apart (the trap the
dev-sec hardening collection fell into).
"""

from __future__ import annotations

import pytest
from conftest import ROLES, load_yaml


def _spec(role):
    return load_yaml(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_defaults_and_argument_specs_declare_the_same_inputs(role):
    defaults = load_yaml(role / "defaults" / "main.yml") or {}
    assert set(defaults) == set(_spec(role))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_inputs_are_prefixed_with_the_role_name(role):
    assert [name for name in _spec(role) if not name.startswith(role.name + "_")] == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_spec_defaults_equal_the_role_defaults(role):
    defaults = load_yaml(role / "defaults" / "main.yml") or {}
    for name, option in _spec(role).items():
        if option.get("required"):
            # A required input has no real default: an empty placeholder only.
            assert defaults[name] in ("", [], {}), name
            assert "default" not in option, name
        else:
            assert option.get("default") == defaults[name], name


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_input_is_described(role):
    assert [name for name, option in _spec(role).items() if not option.get("description")] == []


def test_role_vars_do_not_shadow_inputs():
    for role in ROLES:
        internal = load_yaml(role / "vars" / "main.yml") or {}
        assert set(internal).isdisjoint(_spec(role)), role.name
