"""Helpers the test tiers share, as a package (`from tests.support.site import
...`): the project's paths and services, running the roles and rendering
their files on this machine, and talking to a provisioned target."""
