"""A bad inventory is refused before anything changes, with a message that
names the variable and the rule.

site.yml runs against a host that cannot be reached (a container that does
not exist): the pre-flight play needs no connection, so it either refuses the
input or lets the run go on to the provisioning play, which then cannot reach
the host. Either way nothing on any machine can change.
"""

from __future__ import annotations

import pytest

from tests.support.ansible_run import PROVISIONING_PLAY, run_site

DEFAULT_BONUS = {
    "website": True,
    "adminer": True,
    "redis": True,
    "vsftpd": True,
    "backup": True,
    "portainer": False,
}

BAD_INPUTS = [
    # The bonus switches: one mapping, every service the stack role declares.
    ({"inception_bonus": {"vsftpd": False}}, "inception_bonus: must name each of website, adminer, redis"),
    ({"inception_bonus": {"vsftpd": False}}, "missing: website, adminer, redis, backup, portainer"),
    ({"inception_bonus": {**DEFAULT_BONUS, "mailpit": True}}, "unknown: mailpit"),
    ({"inception_bonus": {**DEFAULT_BONUS, "redis": "yes please"}}, "inception_bonus: must name each of"),
    ({"inception_bonus": "all"}, "missing: website, adminer, redis, vsftpd, backup, portainer"),
    # An inventory from before the mapping is not silently ignored.
    ({"inception_bonus_vsftpd": False}, "inception_bonus_vsftpd: replaced by the mapping inception_bonus"),
    ({"inception_login": "Not A Login"}, "inception_login: must be a 42 login"),
    ({"inception_login": ""}, "inception_login: must be a 42 login"),
    ({"inception_admin_user": "SiteAdministrator"}, 'inception_admin_user: must not contain "admin"'),
    ({"inception_admin_user": "myADMIN"}, 'inception_admin_user: must not contain "admin"'),
    ({"inception_domain": "not a domain"}, "inception_domain: must be a lowercase DNS name"),
    ({"inception_user": "siteowner"}, "inception_user: must differ from inception_admin_user"),
    ({"inception_user_email": "siteowner@jdoe.42.fr"}, "inception_user_email: must differ"),
    ({"inception_admin_email": "nobody"}, "inception_admin_email: must be an e-mail address"),
    ({"inception_db_password": "short"}, "inception_db_password: must be at least 12 characters"),
    ({"inception_user_password": "has a space in it"}, "inception_user_password: must be at least 12"),
    ({"inception_php_fpm_port": "80"}, "inception_php_fpm_port: must be a port from 1024 to 65535"),
    ({"inception_php_fpm_port": "nine"}, "inception_php_fpm_port: must be a port from 1024 to 65535"),
    ({"inception_wordpress_theme": "astra"}, "inception_wordpress_theme: must be one of twentytwentyone,"),
    ({"inception_ftp_user": "Root User"}, "inception_ftp_user: must be an account name"),
    ({"inception_ftp_passive_ports": [21000]}, "inception_ftp_passive_ports: must be [first, last]"),
    ({"inception_ftp_passive_ports": [80, 90]}, "inception_ftp_passive_ports: must be [first, last]"),
    ({"inception_ftp_passive_ports": [21000, 22000]}, "inception_ftp_passive_ports: must be [first, last]"),
    ({"inception_ftp_passive_ports": "21000-21010"}, "inception_ftp_passive_ports: must be [first, last]"),
    (
        {"inception_ftp_passive_address": "ftp.example"},
        "inception_ftp_passive_address: must be an IPv4 address",
    ),
    ({"inception_redis_password": "short"}, "inception_redis_password: must be at least 12 characters"),
    ({"inception_image_tag": "latest"}, "inception_image_tag: must be a Docker tag other than 'latest'"),
    ({"inception_image_builder": "laptop"}, "inception_image_builder: must be target (the target builds"),
    (
        {"inception_portainer_version": "latest"},
        "inception_portainer_version: must be a Portainer CE release",
    ),
    (
        {"inception_portainer_sha256": "44A5BEDB"},
        "inception_portainer_sha256: must be the sha256 of the release",
    ),
    (
        {"inception_portainer_password": "short"},
        "inception_portainer_password: must be at least 12 characters",
    ),
    # An account of the system, a box's, or the one Ansible logs in with: the role locks it.
    ({"inception_login": "root"}, "inception_login: must not name an account of the system"),
    ({"inception_login": "www-data"}, "inception_login: must not name an account of the system"),
    ({"inception_login": "vagrant"}, "inception_login: must not name an account of the system"),
    ({"ansible_user": "jdoe"}, "inception_login: must not name an account of the system or the one Ansible"),
    # Each cron field as Debian's cron reads it (it ignores a file with one bad field).
    ({"inception_backup_schedule": "61 3 * * *"}, "inception_backup_schedule: must be a cron schedule"),
    ({"inception_backup_schedule": "*/0 * * * *"}, "'*/0': a step must be at least 1"),
    ({"inception_backup_schedule": "30 3 * *"}, "cron needs five fields"),
    ({"inception_backup_schedule": "0 0 31 2 *"}, "runs less than twice in four years"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_is_refused_before_any_change(tmp_path, overrides, message):
    result = run_site(tmp_path, **overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in " ".join(output.split()), output[-2000:]
    assert PROVISIONING_PLAY not in output


def test_password_values_never_appear_in_the_refusal(tmp_path):
    result = run_site(tmp_path, inception_db_password="short", inception_admin_password="abc def ghi jkl")
    output = result.stdout + result.stderr
    assert "inception_db_password, inception_admin_password" in " ".join(output.split())
    assert "short" not in output.replace("inception_", "")
    assert "abc def" not in output


def test_good_input_passes_preflight(tmp_path):
    result = run_site(tmp_path)
    output = result.stdout + result.stderr
    # Past the pre-flight; the provisioning play then finds no such target.
    assert PROVISIONING_PLAY in output, output[-2000:]
    assert result.returncode != 0
    assert "must be" not in output
