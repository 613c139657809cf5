"""The dashboard's counts of posts kept in the object cache (the must-use
plugin inception-counts.php).

Every load of the dashboard's list of posts counts its type's posts by
status; the stack keeps the counts until any post changes. Kept or counted,
they must be WordPress's own, and never outlive a change: a deleted post, which
WordPress's own per-request cache does not follow, included.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.site import LoggedIn, skip_unless_on, wordpress_php

pytestmark = pytest.mark.evaluation("performance")

# As the administrator, a "load" of the list of posts as a new request makes
# it (WordPress's per-request counts forgotten, the list's load hook run, the
# posts counted as the list does): the counts, how often MariaDB counted them,
# and the statuses the list shows.
_LOAD = r"""
require_once ABSPATH . 'wp-admin/includes/admin.php';
wp_set_current_user((int) get_user_by('login', $argv[1])->ID);
$GLOBALS['typenow'] = 'post';
global $wpdb;
$asked = 0;
add_filter('query', function ($sql) use (&$asked) {
    if (strpos($sql, 'COUNT( * ) AS num_posts') !== false) {
        $asked++;
    }
    return $sql;
});
$load = function () use (&$asked) {
    wp_cache_delete(_count_posts_cache_key('post'), 'counts');
    $before = $asked;
    do_action('load-edit.php');
    $statuses = get_available_post_statuses('post');
    $counts = (array) wp_count_posts('post', 'readable');
    return [$counts, $asked - $before, $statuses];
};
"""

# In one php process: the list loaded twice, and WordPress's own counts
# alone, at each step of a new post's life (published, drafted, deleted).
_COUNTS = (
    _LOAD
    + r"""
// A new "last changed" mark, as any post's change makes: nothing kept yet.
wp_cache_set('last_changed', microtime(), 'posts');
$active = has_action('load-edit.php', ['Inception_Counts', 'serve']) !== false
    && has_filter('wp_count_posts', ['Inception_Counts', 'keep']) === PHP_INT_MIN;
$wordpress_own = function () use ($wpdb) {
    $rows = $wpdb->get_results("SELECT post_status, COUNT(*) AS n FROM {$wpdb->posts}"
        . " WHERE post_type = 'post' GROUP BY post_status", ARRAY_A);
    $own = array_fill_keys(get_post_stati(), 0);
    foreach ($rows as $row) {
        $own[$row['post_status']] = (int) $row['n'];
    }
    return $own;
};
$seen = ['active' => $active];
$step = function (string $name) use ($load, $wordpress_own, &$seen) {
    [$seen[$name], $seen["asked_$name"]] = $load();
    [$seen["{$name}_again"], $seen["asked_{$name}_again"], $seen["{$name}_statuses"]] = $load();
    $seen["{$name}_by_wordpress"] = $wordpress_own();
};
$step('before');
$id = wp_insert_post(['post_title' => 'Counted', 'post_status' => 'publish'], true);
try {
    $step('published');
    wp_update_post(['ID' => $id, 'post_status' => 'draft']);
    $step('drafted');
} finally {
    wp_delete_post($id, true);
}
$step('deleted');
echo json_encode($seen);
"""
)

# Another php process, as another request is: the list loaded once.
_AGAIN = (
    _LOAD
    + r"""
[$counts, $asked] = $load();
echo json_encode(compact('counts', 'asked'));
"""
)

STEPS = ("before", "published", "drafted", "deleted")


def test_the_counts_are_counted_once_kept_and_follow_every_posts_change(host, target):
    seen = json.loads(wordpress_php(host, _COUNTS, target.admin_user))
    assert seen["active"], "Inception_Counts is not on the list's load hook and on wp_count_posts"
    for step in STEPS:
        # Each change makes the list count once; loaded again, it is given
        # the kept counts, and they are WordPress's own.
        assert seen[f"asked_{step}"] == 1, step
        assert seen[f"asked_{step}_again"] == 0, step
        assert seen[f"{step}_again"] == seen[step], step
        assert {status: int(n) for status, n in seen[step].items()} == seen[f"{step}_by_wordpress"], step
        assert "publish" in seen[f"{step}_statuses"], step
    published = {step: int(seen[step]["publish"]) for step in STEPS}
    drafts = {step: int(seen[step]["draft"]) for step in STEPS}
    assert published["published"] == published["before"] + 1
    assert (published["drafted"], drafts["drafted"]) == (published["before"], drafts["before"] + 1)
    # Deleted: WordPress itself forgets nothing then; the kept counts follow.
    assert (published["deleted"], drafts["deleted"]) == (published["before"], drafts["before"])


def test_the_counts_are_kept_for_the_next_request(host, target):
    # Requests share the kept counts through Redis (php-fpm's workers also
    # through APCu, which a php process of its own does not see).
    skip_unless_on(target, "redis")
    first = json.loads(wordpress_php(host, _AGAIN, target.admin_user))
    again = json.loads(wordpress_php(host, _AGAIN, target.admin_user))
    assert again["asked"] == 0
    assert again["counts"] == first["counts"]


def test_the_list_of_posts_counts_a_deleted_post_through_php_fpm(target, secret_values):
    admin = LoggedIn(target, target.admin_user, secret_values["wp_admin_password"])

    def published() -> int:
        page = admin.page("/wp-admin/edit.php")
        count = re.search(r'post_status=publish[^>]*>[^<]*<span class="count">\(([\d,]+)\)</span>', page)
        assert count, "the list of posts shows no count of published posts"
        return int(count.group(1).replace(",", ""))

    before = published()
    # The administrator publishes a post, then deletes it for good, through
    # the site's REST API (php-fpm, as the block editor does).
    created = admin.rest("/wp/v2/posts", {"title": "Counted", "status": "publish"})
    assert created.status == 201, created.body[:500]
    post = json.loads(created.body)["id"]
    try:
        assert published() == before + 1
    finally:
        deleted = admin.rest(f"/wp/v2/posts/{post}&force=true", method="DELETE")
    assert deleted.status == 200, deleted.body[:500]
    assert published() == before
