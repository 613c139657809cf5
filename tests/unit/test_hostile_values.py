"""Hostile inventory values: each is either refused by pre-flight, naming the
variable and the rule, or reaches every file it is rendered into intact.

One site.yml run judges every case (one host per case, pre-flight reports
them all). What pre-flight accepts is then rendered through the role's own
templates and read back by the programs that read those files: Debian 13's
Compose v2 for .env (the target's), Python's HTML parser for the static page.
What only a running site can tell (WordPress's title, both users' logins with
passwords holding every character, Redis, FTP) is proven end to end on the
container target, whose inventory sets such values (molecule/default)."""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import pytest

from tests.support.ansible_run import preflight_verdicts, render
from tests.support.compose import COMPOSE_V2, compose_config
from tests.support.project import PROJECT, STACK, load_yaml

TAKEN = "inception_ftp_passive_ports: must not hold a port the project publishes or forwards "
TITLE_RULE = "inception_site_title: must be 1-100 characters"
EMAIL_RULE = "must be an e-mail address"

# (variable, value, the words of the refusal)
REFUSED = [
    ("inception_site_title", "", TITLE_RULE),
    ("inception_site_title", "two\nlines", TITLE_RULE + " with no line break"),
    ("inception_site_title", "tab\there", TITLE_RULE),
    ("inception_site_title", " padded", "no white space at either end"),
    ("inception_site_title", "padded ", "no white space at either end"),
    ("inception_site_title", "x" * 101, TITLE_RULE),
    ("inception_site_title", "Tom &amp; Jerry", "no HTML entity such as &amp;"),
    ("inception_site_title", "Price &#36;5", "no HTML entity such as &amp;"),
    ("inception_site_title", "&#x41;BC", "no HTML entity such as &amp;"),
    ("inception_admin_email", 'o"brien@jdoe.42.fr', "inception_admin_email: " + EMAIL_RULE + " WordPress"),
    ("inception_admin_email", "back\\slash@jdoe.42.fr", "inception_admin_email: " + EMAIL_RULE),
    ("inception_admin_email", "space here@jdoe.42.fr", "inception_admin_email: " + EMAIL_RULE),
    ("inception_user_email", "reader@localhost", "inception_user_email: " + EMAIL_RULE),
    ("inception_user_email", "reader@-bad.42.fr", "inception_user_email: " + EMAIL_RULE),
    ("inception_user_email", "two@@jdoe.42.fr", "inception_user_email: " + EMAIL_RULE),
    ("inception_ftp_passive_address", "999.999.999.999", "four numbers from 0 to 255"),
    ("inception_ftp_passive_address", "256.1.1.1", "inception_ftp_passive_address: must be an IPv4"),
    ("inception_ftp_passive_address", "10.0.2", "inception_ftp_passive_address: must be an IPv4"),
    ("inception_ftp_passive_address", "0.0.0.0", "inception_ftp_passive_address: must be an IPv4"),
    # The passive range is published on the target and forwarded on the
    # controller on the same numbers: it must not take a port already used.
    ("inception_ftp_passive_ports", [2300, 2310], TAKEN + "(2307;"),
    ("inception_ftp_passive_ports", [8440, 8449], TAKEN + "(8443;"),
    ("inception_ftp_passive_ports", [2115, 2125], TAKEN + "(2121;"),
    ("inception_ftp_passive_ports", [2220, 2229], TAKEN + "(2222;"),
    ("inception_ftp_passive_ports", [9440, 9449], TAKEN + "(9443;"),
    ("inception_ftp_passive_ports", [9000, 9099], "(9021; taken:"),
    ("inception_ftp_passive_ports", [9600, 9699], "(9643; taken:"),
    ("inception_login", "daemon", "inception_login: must not name an account of the system"),
    ("inception_login", "nobody", "inception_login: must not name an account of the system"),
]

# Values pre-flight accepts, each of which must come out of every file as it went in.
TITLES = [
    "Café du coin",
    'He said "hi"',
    "l'école d'été",
    "$HOME",
    "${5}",
    "$$ and $",
    "<b>bold</b> & <script>alert(1)</script>",
    "back\\slash \\n \\\\ \\",
    "100% sure; #1",
    "`uname -a` $(id)",
    "日本語のサイト",
    "a=b # not a comment",
    "Inception",
    # The container target's (molecule/default/host_vars).
    'Café "l\'été" $HOME ${5} <b>bold</b> \\ 100%; #1',
]
EMAILS = [
    "o'brien+wp$x@jdoe.42.fr",
    "reader+o'$x@jdoe.42.fr",  # the container target's
    "first.last+tag@sub.jdoe.42.fr",
    "x{|}~!#%&*=?^_`@jdoe.42.fr",
]
ACCEPTED = (
    [("inception_site_title", title) for title in TITLES]
    + [("inception_admin_email", email) for email in EMAILS]
    + [
        ("inception_ftp_passive_address", "10.0.2.15"),
        ("inception_ftp_passive_ports", [21300, 21310]),
    ]
)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, list[str]]:
    cases = {f"refused-{i}": {var: value} for i, (var, value, _) in enumerate(REFUSED)}
    cases |= {f"accepted-{i}": {var: value} for i, (var, value) in enumerate(ACCEPTED)}
    return preflight_verdicts(tmp_path_factory.mktemp("preflight"), cases)


@pytest.mark.parametrize("case", range(len(REFUSED)), ids=[f"{v}={x!r}"[:60] for v, x, _ in REFUSED])
def test_pre_flight_refuses_the_value_by_name(verdicts, case):
    _, _, words = REFUSED[case]
    refusals = verdicts[f"refused-{case}"]
    assert any(words in message for message in refusals), refusals


@pytest.mark.parametrize("case", range(len(ACCEPTED)), ids=[f"{v}={x!r}"[:60] for v, x in ACCEPTED])
def test_pre_flight_accepts_the_value(verdicts, case):
    assert verdicts[f"accepted-{case}"] == []


def compose_environment(folder: Path, **settings) -> dict[str, str]:
    """The wordpress service's environment as Compose v2 reads the rendered
    .env and compose file (config escapes each $ of a value as $$)."""
    srcs = folder / "srcs"
    srcs.mkdir(parents=True)
    for name in (".env", "docker-compose.yml"):
        (srcs / name).write_text(render(STACK, STACK / "templates" / "srcs" / f"{name}.j2", **settings))
    environment = compose_config(srcs)["services"]["wordpress"]["environment"]
    return {name: value.replace("$$", "$") for name, value in environment.items()}


@pytest.fixture(scope="module")
def compose_v2():
    assert COMPOSE_V2.is_file(), "no Compose v2 here: run scripts/prerequisites (make test does)"


@pytest.mark.parametrize("title", TITLES)
def test_the_title_reaches_wordpress_through_env_intact(compose_v2, tmp_path, title):
    environment = compose_environment(tmp_path, inception_stack_site_title=title)
    assert environment["WP_TITLE"] == title


@pytest.mark.parametrize("email", EMAILS)
def test_an_address_reaches_wordpress_through_env_intact(compose_v2, tmp_path, email):
    addresses = {"inception_stack_admin_email": email, "inception_stack_user_email": email}
    environment = compose_environment(tmp_path, **addresses)
    assert environment["WP_ADMIN_EMAIL"] == environment["WP_USER_EMAIL"] == email


def test_the_env_file_fails_on_a_planted_escaping_slip(compose_v2, tmp_path):
    """The reading is real: the old escaping (JSON) loses the same titles."""
    title = 'Café $HOME "q"'
    srcs = tmp_path / "srcs"
    srcs.mkdir()
    (srcs / ".env").write_text(f"WP_TITLE={json.dumps(title)}\n")
    compose = {"services": {"s": {"image": "x", "environment": {"T": "${WP_TITLE}"}}}}
    (srcs / "docker-compose.yml").write_text(json.dumps(compose))
    assert compose_config(srcs)["services"]["s"]["environment"]["T"] != title


class TextOf(html.parser.HTMLParser):
    """The text of the page's <title> and <h1>, as a browser shows them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: str | None = None
        self.texts: dict[str, str] = {"title": "", "h1": ""}
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in self.texts:
            self.open = tag

    def handle_endtag(self, tag):
        if tag == self.open:
            self.open = None

    def handle_data(self, data):
        if self.open:
            self.texts[self.open] += data


@pytest.mark.parametrize("title", TITLES)
def test_the_static_page_shows_the_title_as_text(title):
    page = render(
        STACK,
        STACK / "templates/srcs/requirements/bonus/website/site/index.html.j2",
        inception_stack_site_title=title,
    )
    parser = TextOf()
    parser.feed(page)
    assert parser.texts == {"title": f"{title}: how this site runs", "h1": f"{title}: how this site runs"}
    # No element of the title's own: <b> and <script> stay text.
    assert "script" not in parser.tags
    assert "b" not in parser.tags


def test_the_reserved_ports_are_those_the_inventories_forward():
    """Pre-flight's list of forwarded ports is the one the targets' inventories say."""
    preflight = (PROJECT / "playbooks" / "preflight.yml").read_text()
    listed = re.search(r"preflight_forwarded_ports: (\[[^\]]*\])", preflight).group(1)
    declared = set(json.loads(listed))
    forwarded = set()
    for path in [
        PROJECT / "inventory" / "vm",
        PROJECT / "inventory" / "container",
        PROJECT / "inventory" / "swarm",
        *PROJECT.glob("molecule/*/host_vars/*.yml"),
    ]:
        text = path.read_text()
        for line in text.splitlines():
            key, _, value = line.strip().partition(":")
            if key in ("target_https_forwarded_port", "target_ftp_forwarded_port", "ansible_port"):
                forwarded.add(int(value))
    benchmark = (PROJECT / "scripts" / "benchmark").read_text().splitlines()
    forwarded |= {int(line.split("=")[1]) for line in benchmark if line.startswith("HTTPS_PORT =")}
    assert declared == forwarded


def test_the_container_target_runs_with_hostile_values():
    """molecule's target is where a running site proves what rendering cannot:
    its title, an address and every password keep their hostile characters."""
    settings = load_yaml(PROJECT / "molecule" / "default" / "host_vars" / "inception-molecule.yml")
    assert set("'\"\\$%;#`") <= set(settings["molecule_password_tail"])
    passwords = [name for name in settings if name.startswith("inception_") and name.endswith("_password")]
    assert len(passwords) == 7
    assert all("molecule_password_tail" in settings[name] for name in passwords)
    assert set("\"'$\\<>;#{}") <= set(settings["inception_site_title"])
    assert set("'$+") <= set(settings["inception_user_email"])
    # Each accepted by pre-flight: the title and the address are among the cases above.
    assert settings["inception_site_title"] in TITLES
