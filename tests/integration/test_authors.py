"""The authors of WordPress's drop-downs kept in the object cache (the must-use
plugin inception-authors.php).

The dashboard's list of posts prints two drop-downs of every user who may
write posts, and each asks MariaDB; the stack keeps the answer until any user
changes. Kept or asked, a drop-down must offer exactly WordPress's own users,
and never outlive a change.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.support.site import LoggedIn, skip_unless_on, wordpress_php

pytestmark = pytest.mark.evaluation("performance")

# As the administrator, the quick edit's drop-down of authors printed by a
# function that says how often its query reached MariaDB.
_PRINT = r"""
require_once ABSPATH . 'wp-admin/includes/admin.php';
wp_set_current_user((int) get_user_by('login', $argv[1])->ID);
global $wpdb;
$asked = 0;
add_filter('query', function ($sql) use (&$asked, $wpdb) {
    if (strpos($sql, "{$wpdb->users}.user_login,{$wpdb->users}.display_name") !== false) {
        $asked++;
    }
    return $sql;
});
// As the list of posts asks (class-wp-posts-list-table.php, inline_edit).
$print = function () use (&$asked) {
    $before = $asked;
    $html = wp_dropdown_users(['hide_if_only_one_author' => false, 'capability' => ['edit_posts'],
        'name' => 'post_author', 'class' => 'authors', 'multi' => 1, 'echo' => 0,
        'show' => 'display_name_with_login']);
    return [$html, $asked - $before];
};
"""

# In one php process (no other process's cache in between): the drop-down
# printed, printed again, and by WordPress alone, at each step of a new
# user's life (added as an author, renamed, made a subscriber, an editor
# again, deleted); and how often a user query no drop-down made reached MariaDB.
_AUTHORS = (
    _PRINT
    + r"""
[, , $login, $name, $new_name] = $argv;
// A new mark, as any user's change makes: nothing kept yet.
wp_cache_set('last_changed', microtime(), 'inception-authors');
$active = has_filter('users_pre_query', ['Inception_Authors', 'serve']) === PHP_INT_MAX
    && has_filter('wp_dropdown_users_args', ['Inception_Authors', 'mark']) === PHP_INT_MAX;
$wordpress_own = function () use ($print, $active) {
    if ($active) {
        remove_filter('users_pre_query', ['Inception_Authors', 'serve'], PHP_INT_MAX);
    }
    [$html] = $print();
    if ($active) {
        add_filter('users_pre_query', ['Inception_Authors', 'serve'], PHP_INT_MAX, 2);
    }
    return $html;
};
$seen = ['active' => $active];
$step = function (string $name) use ($print, $wordpress_own, &$seen) {
    [$seen[$name], $seen["asked_$name"]] = $print();
    [$seen["{$name}_again"], $seen["asked_{$name}_again"]] = $print();
    $seen["{$name}_by_wordpress"] = $wordpress_own();
};
$step('before');
$before = $asked;
get_users(['fields' => ['ID', 'user_login', 'display_name']]);
get_users(['fields' => ['ID', 'user_login', 'display_name']]);
$seen['asked_unmarked'] = $asked - $before;
$id = wp_insert_user(['user_login' => $login, 'user_pass' => wp_generate_password(24),
    'user_email' => "$login@example.invalid", 'display_name' => $name, 'role' => 'author']);
try {
    $step('added');
    wp_update_user(['ID' => $id, 'display_name' => $new_name]);
    $step('renamed');
    $user = new WP_User($id);
    $user->set_role('subscriber');
    $step('subscriber');
    $user->set_role('editor');
    $step('editor');
} finally {
    wp_delete_user($id);
}
$step('deleted');
echo json_encode($seen);
"""
)

# Another php process, as another request is: the drop-down printed once.
_AGAIN = (
    _PRINT
    + r"""
[$html, $asked] = $print();
echo json_encode(compact('html', 'asked'));
"""
)


STEPS = ("before", "added", "renamed", "subscriber", "editor", "deleted")


def _options(html: str) -> dict[str, str]:
    """A drop-down's users: their IDs to the text it shows."""
    return dict(re.findall(r"<option value='(\d+)'[^>]*>([^<]*)</option>", html))


def test_the_authors_are_asked_once_kept_and_follow_every_users_change(host, target):
    login = f"author-{uuid.uuid4().hex[:8]}"
    seen = json.loads(wordpress_php(host, _AUTHORS, target.admin_user, login, "Zoë O'Hara & co", "Zoë d'Arc"))
    assert seen["active"], "Inception_Authors is not on WordPress's users_pre_query and drop-down filters"
    assert _options(seen["before"]), "the drop-down offers no author"
    for step in STEPS:
        # Each change makes the drop-down ask MariaDB once; printed again, it
        # is the kept answer, and exactly what WordPress prints alone.
        assert seen[f"asked_{step}"] == 1, step
        assert seen[f"asked_{step}_again"] == 0, step
        assert seen[f"{step}_again"] == seen[step], step
        assert seen[f"{step}_by_wordpress"] == seen[step], step
    # A user query no drop-down made is not kept.
    assert seen["asked_unmarked"] == 2
    shown = {step: " ".join(_options(seen[step]).values()) for step in STEPS}
    assert login not in shown["before"]
    assert re.search(rf"Zoë O\S*Hara \S* co \({login}\)", shown["added"]), shown["added"]
    assert re.search(rf"Zoë d\S*Arc \({login}\)", shown["renamed"]), shown["renamed"]
    assert login not in shown["subscriber"]
    assert login in shown["editor"]
    assert login not in shown["deleted"]


def test_the_authors_are_kept_for_the_next_request(host, target):
    # Requests share the kept answer through Redis (php-fpm's workers also
    # through APCu, which a php process of its own does not see).
    skip_unless_on(target, "redis")
    wordpress_php(host, _AGAIN, target.admin_user)
    again = json.loads(wordpress_php(host, _AGAIN, target.admin_user))
    assert again["asked"] == 0
    assert _options(again["html"])


def test_the_list_of_posts_follows_a_new_author_through_php_fpm(target, secret_values):
    admin = LoggedIn(target, target.admin_user, secret_values["wp_admin_password"])

    def authors() -> dict[str, str]:
        page = admin.page("/wp-admin/edit.php")
        quick_edit = re.search(r"<select name='post_author'[^>]*>.*?</select>", page, re.S)
        assert quick_edit, "the list of posts has no quick edit with authors"
        return _options(quick_edit.group(0))

    before = authors()
    me = json.loads(admin.rest("/wp/v2/users/me", method="GET").body)["id"]
    # The administrator adds an author through the REST API (php-fpm), makes
    # them a subscriber, then deletes them.
    login = f"author-{uuid.uuid4().hex[:8]}"
    created = admin.rest(
        "/wp/v2/users",
        {
            "username": login,
            "email": f"{login}@example.invalid",
            "password": uuid.uuid4().hex,
            "roles": ["author"],
        },
    )
    assert created.status == 201, created.body[:500]
    user = str(json.loads(created.body)["id"])
    try:
        assert user not in before
        assert login in authors().get(user, "")
        demoted = admin.rest(f"/wp/v2/users/{user}", {"roles": ["subscriber"]})
        assert demoted.status == 200, demoted.body[:500]
        assert user not in authors()
    finally:
        deleted = admin.rest(f"/wp/v2/users/{user}&force=true&reassign={me}", method="DELETE")
    assert deleted.status == 200, deleted.body[:500]
    assert authors() == before
