"""Excerpts kept in the object cache (the must-use plugin inception-excerpts.php).

WordPress makes a post's excerpt from its whole content on every page that
lists it; the stack keeps what it made until any post changes. Kept or
made, it must be exactly WordPress's own, and never outlive a change.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.site import https_get, write_post

pytestmark = pytest.mark.evaluation("performance")

# In one php process (no other process's cache in between): the excerpt made,
# asked again, after the post's content changed, and with an excerpt of its
# own; and how often WordPress ran its content filters meanwhile.
_EXCERPTS = r"""
require '/var/www/html/wp-load.php';
[$id, $changed_word] = [(int) $argv[1], $argv[2]];
$content_filter_runs = 0;
add_filter('the_content', function ($content) use (&$content_filter_runs) {
    $content_filter_runs++;
    return $content;
});
$active = has_filter('get_the_excerpt', 'inception_kept_excerpt') === 10
    && has_filter('get_the_excerpt', 'wp_trim_excerpt') === false;
$made = get_the_excerpt($id);
$runs_to_make = $content_filter_runs;
$kept = get_the_excerpt($id);
$runs_to_keep = $content_filter_runs - $runs_to_make;
// WordPress's own, for once, in the plugin's place.
if ($active) {
    remove_filter('get_the_excerpt', 'inception_kept_excerpt', 10);
    add_filter('get_the_excerpt', 'wp_trim_excerpt', 10, 2);
    $wordpress_own = get_the_excerpt($id);
    remove_filter('get_the_excerpt', 'wp_trim_excerpt', 10);
    add_filter('get_the_excerpt', 'inception_kept_excerpt', 10, 2);
}
wp_update_post(['ID' => $id, 'post_content' => "<p>Rewritten with $changed_word.</p>"]);
$after_change = get_the_excerpt($id);
wp_update_post(['ID' => $id, 'post_excerpt' => 'An excerpt of its own']);
$own = get_the_excerpt($id);
echo json_encode(compact('active', 'made', 'runs_to_make', 'kept', 'runs_to_keep', 'wordpress_own',
    'after_change', 'own'));
"""


def test_an_excerpt_is_made_once_kept_and_follows_the_posts_changes(host):
    first, changed = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    post = write_post(host, f"Excerpt {first}", f"<p>Opening words {first}.</p>" + "<p>More words.</p>" * 80)
    seen = json.loads(
        host.check_output("docker exec -u www-data wordpress php -r %s %s %s", _EXCERPTS, str(post), changed)
    )
    assert seen["active"], "inception_kept_excerpt is not in wp_trim_excerpt's place"
    assert f"Opening words {first}" in seen["made"]
    assert seen["runs_to_make"] >= 1
    # Asked again: the kept one, with no content filter run at all.
    assert seen["kept"] == seen["made"]
    assert seen["runs_to_keep"] == 0
    assert seen["made"] == seen["wordpress_own"]
    # A change of the post moves WordPress's "last changed" mark: made again.
    assert f"Rewritten with {changed}" in seen["after_change"]
    assert first not in seen["after_change"]
    assert seen["own"] == "An excerpt of its own"


def test_search_results_show_a_posts_excerpt_through_php_fpm(target, host):
    word = uuid.uuid4().hex[:12]
    write_post(host, f"Listed {word}", f"<p>Listed words {word} for the search page.</p>")
    # A page WordPress builds (the cookie makes NGINX skip its cache).
    page = https_get(target, f"/?s={word}", {"Cookie": "wordpress_no_cache=1"})
    assert page.status == 200
    assert f"Listed words {word} for the search page" in page.body.decode()
