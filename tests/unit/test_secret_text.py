"""What a failed browser wait keeps holds no secret, whole or in part."""

from __future__ import annotations

from tests.support.secret_text import FRAGMENT_MIN, HIDDEN, SecretText

# Made up for these tests: no site ever had them.
PASSWORD = "example-password-for-tests-only"
OTHER = "another-made-up+value.for_tests"


def test_a_whole_secret_is_hidden_wherever_it_stands():
    text = SecretText([PASSWORD, OTHER]).hide(f'<input value="{PASSWORD}">{OTHER}\n{PASSWORD}')
    assert text == f'<input value="{HIDDEN}">{HIDDEN}\n{HIDDEN}'


def test_the_tail_of_a_password_typed_into_another_field_is_hidden():
    # The keystrokes after the login page moved the focus: a run from the middle.
    tail = PASSWORD[7:]
    text = SecretText([PASSWORD]).hide(f'<input id="user_login" value="{tail}">')
    assert text == f'<input id="user_login" value="{HIDDEN}">'


def test_a_run_shorter_than_the_fragment_is_left():
    short_run = PASSWORD[3 : 3 + FRAGMENT_MIN - 1]
    assert SecretText([PASSWORD]).hide(f"[{short_run}]") == f"[{short_run}]"


def test_a_run_of_exactly_the_fragment_is_hidden():
    run = PASSWORD[5 : 5 + FRAGMENT_MIN]
    assert SecretText([PASSWORD]).hide(f"[{run}]") == f"[{HIDDEN}]"


def test_a_secret_shorter_than_the_fragment_is_hidden_whole():
    assert SecretText(["pw1234", PASSWORD]).hide("a pw1234 b pw12") == f"a {HIDDEN} b pw12"


def test_characters_of_a_secret_are_not_read_across_two_of_them():
    # Each hidden run is part of one secret: the end of one glued to the start
    # of another is two runs, both hidden, and what follows them stays.
    glued = PASSWORD[-FRAGMENT_MIN:] + OTHER[:FRAGMENT_MIN] + " visible"
    assert SecretText([PASSWORD, OTHER]).hide(glued) == f"{HIDDEN}{HIDDEN} visible"


def test_text_without_secrets_and_no_secrets_at_all_are_unchanged():
    page = "<html><body>Log In &lsaquo; Inception</body></html>"
    assert SecretText([PASSWORD, OTHER]).hide(page) == page
    assert SecretText(["", ""]).hide(page) == page
