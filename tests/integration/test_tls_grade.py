"""TLS graded like SSL Labs by testssl.sh, trusting the local CA.

testssl.sh 3.2 (the first with grading) comes with Debian 13, so it runs on
the target itself, against the stack's 443. Slow (about a minute), so it is
here and not in a unit test.
"""

from __future__ import annotations

import json

import pytest

from tests.support.site import install_on_target

pytestmark = pytest.mark.evaluation("hardening")

# Findings of severity MEDIUM or worse that stay, and why.
ACCEPTED = {
    "cert_revocation": "a local CA publishes no CRL and runs no OCSP responder",
}
SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}


@pytest.fixture(scope="module")
def testssl_findings(host, target) -> list[dict]:
    install_on_target(host, "testssl.sh", "bsdextrautils", "dnsutils", "procps")
    report = "/tmp/inception-testssl.json"
    host.run(
        "testssl --quiet --color 0 --overwrite --add-ca %s --ip 127.0.0.1 --jsonfile-pretty %s https://%s:443",
        f"{target.tree}/secrets/tls/ca.crt",
        report,
        target.domain,
    )
    scan = json.loads(host.file(report).content_string)["scanResult"]
    sections = [value for part in scan for value in part.values() if isinstance(value, list)]
    return [finding for section in sections for finding in section]


def test_overall_grade_is_a_plus(testssl_findings):
    grades = [f["finding"] for f in testssl_findings if f["id"] == "overall_grade"]
    assert grades == ["A+"]


def test_no_medium_or_worse_finding_but_the_documented_ones(testssl_findings):
    severe = {f["id"]: f["finding"] for f in testssl_findings if f.get("severity") in SEVERE}
    assert set(severe) <= set(ACCEPTED), severe
