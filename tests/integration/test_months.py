"""The dashboard's months kept in the object cache (the must-use plugin inception-months.php).

Every load of the dashboard's list of posts asks MariaDB which months hold a
post; the stack keeps the answer until any post changes. Kept or asked, the
filter must offer exactly WordPress's own months, and never outlive a change.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.site import LoggedIn, wordpress_php

pytestmark = pytest.mark.evaluation("performance")

# In one php process (no other process's cache in between), as the
# administrator: the months filter of the list of posts printed, printed
# again, by WordPress alone, after a post in a month no post had, after that
# post went to the trash, and in the trash's own list; and how often the
# months query reached MariaDB meanwhile.
_MONTHS = r"""
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-posts-list-table.php';
$post_date = $argv[1];
wp_set_current_user((int) get_user_by('login', $argv[2])->ID);
set_current_screen('edit-post');
// A new "last changed" mark, as any post's change makes: nothing kept yet.
wp_cache_set('last_changed', microtime(), 'posts');
$asked = 0;
add_filter('query', function ($sql) use (&$asked) {
    if (strpos($sql, 'YEAR( post_date )') !== false) {
        $asked++;
    }
    return $sql;
});
$table = new class(['screen' => 'edit-post']) extends WP_Posts_List_Table {
    public function months(): string
    {
        ob_start();
        $this->months_dropdown('post');
        return ob_get_clean();
    }
};
$print = function () use ($table, &$asked) {
    $before = $asked;
    $html = $table->months();
    return [$html, $asked - $before];
};
$filters = [
    ['pre_months_dropdown_query', 'serve', PHP_INT_MAX, 2],
    ['months_dropdown_results', 'keep', PHP_INT_MIN, 1],
];
$active = true;
foreach ($filters as [$hook, $method, $priority]) {
    $active = $active && has_filter($hook, ['Inception_Months', $method]) === $priority;
}
[$made, $asked_to_make] = $print();
[$kept, $asked_to_keep] = $print();
// WordPress's own, for once, without the plugin.
if ($active) {
    foreach ($filters as [$hook, $method, $priority]) {
        remove_filter($hook, ['Inception_Months', $method], $priority);
    }
    [$wordpress_own] = $print();
    foreach ($filters as [$hook, $method, $priority, $arguments]) {
        add_filter($hook, ['Inception_Months', $method], $priority, $arguments);
    }
}
$id = wp_insert_post(['post_title' => 'A post of its own month', 'post_status' => 'publish',
    'post_date' => $post_date], true);
try {
    [$after_new] = $print();
    wp_trash_post($id);
    [$after_trash] = $print();
    $_GET['post_status'] = 'trash';
    [$trash, $asked_for_trash] = $print();
    [$trash_kept, $asked_for_trash_kept] = $print();
} finally {
    wp_delete_post($id, true);
}
echo json_encode(compact('active', 'made', 'asked_to_make', 'kept', 'asked_to_keep', 'wordpress_own',
    'after_new', 'after_trash', 'trash', 'asked_for_trash', 'trash_kept', 'asked_for_trash_kept'));
"""


def _month_options(html: str) -> list[str]:
    """The months a filter offers, as WordPress's values (yyyymm)."""
    return re.findall(r"<option[^>]* value=['\"](\d{6})['\"]", html)


def test_the_months_are_asked_once_kept_and_follow_the_posts_changes(host, target):
    seen = json.loads(wordpress_php(host, _MONTHS, "1987-03-15 10:00:00", target.admin_user))
    assert seen["active"], "Inception_Months is not on both of WordPress's months filters"
    assert _month_options(seen["made"]), "the list of posts offers no month"
    assert seen["asked_to_make"] == 1
    # Printed again: the kept months, without asking MariaDB, and exactly
    # what WordPress prints alone.
    assert seen["kept"] == seen["made"]
    assert seen["asked_to_keep"] == 0
    assert seen["made"] == seen["wordpress_own"]
    # A new post, then its move to the trash, move WordPress's "last
    # changed" mark: the month shows, then goes, at once.
    assert "198703" in _month_options(seen["after_new"])
    assert "198703" not in _month_options(seen["after_trash"])
    # The trash's list asks for its own months, and keeps them apart.
    assert "198703" in _month_options(seen["trash"])
    assert seen["asked_for_trash"] == 1
    assert seen["trash_kept"] == seen["trash"]
    assert seen["asked_for_trash_kept"] == 0


def test_the_list_of_posts_follows_a_new_month_through_php_fpm(target, secret_values):
    admin = LoggedIn(target, target.admin_user, secret_values["wp_admin_password"])

    def months(query: str = "") -> list[str]:
        return _month_options(admin.page(f"/wp-admin/edit.php{query}"))

    # The months as php-fpm keeps them, before the change.
    assert "198806" not in months()
    # The administrator publishes a post dated in a month no post has, then
    # moves it to the trash, through the site's REST API (php-fpm, as the
    # block editor does).
    created = admin.rest(
        "/wp/v2/posts", {"title": "June 1988", "status": "publish", "date": "1988-06-15T10:00:00"}
    )
    assert created.status == 201, created.body[:500]
    post = json.loads(created.body)["id"]
    try:
        assert "198806" in months()
        trashed = admin.rest(f"/wp/v2/posts/{post}", method="DELETE")
        assert trashed.status == 200, trashed.body[:500]
        assert "198806" not in months()
        assert "198806" in months("?post_status=trash")
    finally:
        admin.rest(f"/wp/v2/posts/{post}&force=true", method="DELETE")
