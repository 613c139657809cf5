<?php
//
// Ansible managed
//
// A post's list of comments kept in the object cache, for the visitors who
// all see the same list. WordPress formats every comment again on every view
// (its date in the site's time zone, its reply link, its text through the
// comment filters): on the large site of `make benchmark-size` that was 62 %
// of the PHP time of a post with 100 comments (docs/BENCHMARKS.md, "A site of
// real size").
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. Only the
// list wp_list_comments() prints (its walker's output; the comment form is
// left alone), and only when nothing in it depends on the visitor: nobody is
// logged in (an editor sees edit links), the visitor carries no commenter's
// cookies and no held comment's link (a commenter sees their own comment
// awaiting moderation), the post needs no password, and the theme passes no
// walker or callback of its own. What is kept is exactly the walker's output,
// under a key that changes with everything it depends on: the comments
// listed, in their order; any comment's change (WordPress's "last changed"
// mark for comments: a new one, an approval, an edit, a deletion) and any
// post's (open or closed, its author); the list's arguments and page; whether
// comments are open now (they can close by age); the options the list reads;
// the language and the scheme. The object cache keeps nothing longer than
// five minutes, which bounds what no key can see (a plugin's new filter).

defined('ABSPATH') || exit;

const INCEPTION_COMMENTS_GROUP = 'inception-comments';

// What the list's HTML reads from the site's settings.
const INCEPTION_COMMENTS_OPTIONS = [
    'home', 'siteurl', 'permalink_structure', 'date_format', 'time_format', 'timezone_string', 'gmt_offset',
    'show_avatars', 'avatar_default', 'avatar_rating', 'thread_comments', 'thread_comments_depth',
    'comment_registration', 'page_comments', 'comments_per_page', 'default_comments_page', 'comment_order',
];

// True when this visitor sees the list every anonymous visitor sees.
function inception_comments_visitor_is_anyone(): bool
{
    if (is_user_logged_in() || isset($_GET['unapproved']) || isset($_GET['moderation-hash'])) {
        return false;
    }
    return implode('', wp_get_current_commenter()) === '';
}

// The key of this list, or null when it must be made for this visitor alone.
function inception_comments_key(array $comments, $max_depth, $page, $per_page, $list_args): ?string
{
    $post = get_post();
    if (!is_array($list_args) || !$post instanceof WP_Post || post_password_required($post) || is_preview()
        || !empty($list_args['callback']) || !empty($list_args['end-callback'])
        || !inception_comments_visitor_is_anyone()) {
        return null;
    }
    unset($list_args['walker']);
    foreach ($list_args as $value) {
        if ($value !== null && !is_scalar($value)) {
            return null;
        }
    }
    $context = [
        $post->ID,
        wp_list_pluck($comments, 'comment_ID'),
        $max_depth,
        $page,
        $per_page,
        $list_args,
        comments_open($post),
        array_map('get_option', INCEPTION_COMMENTS_OPTIONS),
        determine_locale(),
        is_ssl(),
    ];
    return wp_cache_get_last_changed('comment') . ':' . wp_cache_get_last_changed('posts') . ':'
        . md5(serialize($context));
}

// WordPress's own walker, which keeps what it made when the key allows.
class Inception_Kept_Comments_Walker extends Walker_Comment
{
    public function paged_walk($elements, $max_depth, $page_num, $per_page, ...$args)
    {
        $key = is_array($elements)
            ? inception_comments_key($elements, $max_depth, $page_num, $per_page, $args[0] ?? null)
            : null;
        if ($key === null) {
            return parent::paged_walk($elements, $max_depth, $page_num, $per_page, ...$args);
        }
        $kept = wp_cache_get($key, INCEPTION_COMMENTS_GROUP);
        if (is_string($kept)) {
            return $kept;
        }
        $made = parent::paged_walk($elements, $max_depth, $page_num, $per_page, ...$args);
        wp_cache_set($key, $made, INCEPTION_COMMENTS_GROUP);
        return $made;
    }
}

// Where the theme lets WordPress choose the walker (Twenty Twenty-One does).
add_filter('wp_list_comments_args', function (array $list_args): array {
    if (empty($list_args['walker'])) {
        $list_args['walker'] = new Inception_Kept_Comments_Walker();
    }
    return $list_args;
});
