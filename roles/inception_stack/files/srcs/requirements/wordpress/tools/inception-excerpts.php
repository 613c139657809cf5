<?php
//
// Ansible managed
//
// Excerpts kept in the object cache. A post with no excerpt of its own gets
// one WordPress makes from its content (wp_trim_excerpt: the whole content
// through every content filter, then cut to its first words), again on every
// page that lists it: archives and search results list ten. On the large
// site of `make benchmark-size` that was ~17 % of a category page's PHP time
// (docs/BENCHMARKS.md, "A site of real size").
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. What is
// kept is exactly what wp_trim_excerpt returned, under a key that changes
// with everything it depends on: the post; every post's change (WordPress's
// "last changed" mark for posts, which a save, a status change or a deletion
// moves: the same mark WordPress's own query caches follow); the excerpt's
// length and "more" text (themes filter both, the "more" text per post); the
// language; and whether a feed asks.

defined('ABSPATH') || exit;

const INCEPTION_EXCERPTS_GROUP = 'inception-excerpts';

function inception_kept_excerpt($text = '', $post = null): string
{
    $post = get_post($post);
    // An excerpt of the post's own, or no post: WordPress's own, unchanged.
    if ($text !== '' || !$post instanceof WP_Post) {
        return wp_trim_excerpt($text, $post);
    }
    $context = [
        apply_filters('excerpt_length', 55),
        apply_filters('excerpt_more', ' [&hellip;]'),
        determine_locale(),
        is_feed(),
    ];
    $key = $post->ID . ':' . wp_cache_get_last_changed('posts') . ':' . md5(serialize($context));
    $kept = wp_cache_get($key, INCEPTION_EXCERPTS_GROUP);
    if (is_string($kept)) {
        return $kept;
    }
    $made = wp_trim_excerpt('', $post);
    wp_cache_set($key, $made, INCEPTION_EXCERPTS_GROUP);
    return $made;
}

// In wp_trim_excerpt's place on the same filter, with the same arguments.
if (remove_filter('get_the_excerpt', 'wp_trim_excerpt', 10)) {
    add_filter('get_the_excerpt', 'inception_kept_excerpt', 10, 2);
}
