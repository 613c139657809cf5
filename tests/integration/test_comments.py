"""Comment lists kept in the object cache (the must-use plugin inception-comments.php).

WordPress formats every comment of a post again on every view; the stack
keeps the list it printed for the visitors who all see the same one. Kept or
made, it must be exactly WordPress's own, never outlive a change, and never
reach a visitor whose list differs: someone logged in, a commenter.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest

from tests.support.site import (
    cookie_header,
    https_get,
    https_request,
    wordpress_login,
    wordpress_php,
    write_post,
)

pytestmark = pytest.mark.evaluation("performance")

# In one php process (no other process's cache in between): the list printed
# for anyone, printed again, by WordPress's own walker, after a new comment,
# for a commenter with cookies, and for the administrator; and how often
# WordPress formatted a comment's text meanwhile.
_COMMENT_LISTS = r"""
[$id, $new_words] = [(int) $argv[1], $argv[2]];
$formatted = 0;
add_filter('comment_text', function ($text) use (&$formatted) {
    $formatted++;
    return $text;
});
$GLOBALS['post'] = get_post($id);
setup_postdata($GLOBALS['post']);
$list = function (array $extra = []) use ($id, &$formatted) {
    $before = $formatted;
    $comments = get_comments(['post_id' => $id, 'status' => 'approve', 'order' => 'ASC']);
    $html = wp_list_comments(['style' => 'ol', 'avatar_size' => 60, 'short_ping' => true, 'echo' => false]
        + $extra, $comments);
    return [$html, $formatted - $before];
};
[$made, $formatted_to_make] = $list();
[$kept, $formatted_to_keep] = $list();
[$wordpress_own] = $list(['walker' => new Walker_Comment()]);
wp_insert_comment(['comment_post_ID' => $id, 'comment_content' => $new_words,
    'comment_author' => 'late reader', 'comment_approved' => 1]);
[$after_new] = $list();
$_COOKIE['comment_author_' . COOKIEHASH] = 'reader';
[, $formatted_for_commenter] = $list();
unset($_COOKIE['comment_author_' . COOKIEHASH]);
wp_set_current_user(1);
[$for_admin, $formatted_for_admin] = $list();
echo json_encode(compact('made', 'formatted_to_make', 'kept', 'formatted_to_keep', 'wordpress_own',
    'after_new', 'formatted_for_commenter', 'for_admin', 'formatted_for_admin'));
"""


def test_a_comment_list_is_made_once_kept_and_follows_new_comments(host):
    words = [uuid.uuid4().hex[:12] for _ in range(3)]
    post = write_post(host, f"Comments {words[0]}", "<p>A post with comments.</p>", f"First words {words[0]}")
    wordpress_php(
        host,
        "wp_insert_comment(['comment_post_ID' => (int) $argv[1], 'comment_content' => $argv[2],"
        " 'comment_author' => 'second reader', 'comment_approved' => 1]);",
        str(post),
        f"Second words {words[1]}",
    )
    seen = json.loads(wordpress_php(host, _COMMENT_LISTS, str(post), f"Late words {words[2]}"))
    assert f"First words {words[0]}" in seen["made"]
    assert f"Second words {words[1]}" in seen["made"]
    assert seen["formatted_to_make"] == 2
    # Printed again: the kept list, with no comment formatted at all, and
    # exactly what WordPress's own walker prints.
    assert seen["kept"] == seen["made"]
    assert seen["formatted_to_keep"] == 0
    assert seen["made"] == seen["wordpress_own"]
    # A new comment moves WordPress's "last changed" mark: made again, with it.
    assert f"Late words {words[2]}" in seen["after_new"]
    # A commenter and the administrator get a list made for them.
    assert seen["formatted_for_commenter"] == 3
    assert seen["formatted_for_admin"] == 3
    assert "comment-edit-link" in seen["for_admin"]
    assert "comment-edit-link" not in seen["after_new"]


def test_a_post_page_shows_a_new_comment_at_once_through_php_fpm(target, host, secret_values):
    first, late = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    post = write_post(host, f"Page {first}", "<p>A post read twice.</p>", f"Early words {first}")
    # Pages WordPress builds (the cookie makes NGINX skip its cache), read
    # twice: the second list is the kept one.
    anyone = {"Cookie": "wordpress_no_cache=1"}
    for _ in range(2):
        page = https_get(target, f"/?p={post}", anyone)
        assert page.status == 200
        assert f"Early words {first}" in page.body.decode()
    # The administrator comments through the site's form (approved at once,
    # as a moderator's comment is), through php-fpm like the pages.
    cookies = wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    posted = https_request(
        target,
        "POST",
        "/wp-comments-post.php",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie_header(cookies),
        },
        urllib.parse.urlencode(
            {"comment_post_ID": post, "comment_parent": 0, "comment": f"Late words {late}"}
        ),
    )
    assert posted.status == 302, posted.body[:500]
    page = https_get(target, f"/?p={post}", anyone)
    assert page.status == 200
    assert f"Late words {late}" in page.body.decode()
    assert "comment-edit-link" not in page.body.decode()
