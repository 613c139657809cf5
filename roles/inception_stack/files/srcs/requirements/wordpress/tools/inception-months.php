<?php
//
// Ansible managed
//
// The months of the dashboard's post list kept in the object cache. Every
// load of a list of posts (and of the media library's list) asks MariaDB
// which months hold a post of its type: a scan of every such post, sorted.
// On the large site of `make benchmark-size` (10,000 posts) that query was
// ~9 % of the post list's time, ~14 ms under load (docs/BENCHMARKS.md, "A
// site of real size").
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. What is
// kept is the answer of WordPress's own query, before any plugin's
// months_dropdown_results filter (those still run on every load), under a
// key that changes with everything the query depends on: the post type;
// whether the list shows the trash (WordPress asks for other rows there);
// and every post's change (WordPress's "last changed" mark for posts, which
// a save, a date or status change and a deletion move: the same mark its own
// query caches follow). A plugin that answers the query itself is left
// alone: its answer is neither replaced nor kept.

defined('ABSPATH') || exit;

final class Inception_Months
{
    const GROUP = 'inception-months';

    // The key WordPress's own query is about to answer, between the two filters.
    private static ?string $asked = null;

    private static function key(string $post_type): string
    {
        $trash = isset($_GET['post_status']) && $_GET['post_status'] === 'trash';
        return $post_type . ':' . ($trash ? 'trash' : 'listed') . ':' . wp_cache_get_last_changed('posts');
    }

    // Last on pre_months_dropdown_query: the kept answer, unless a plugin gave one.
    public static function serve($months, $post_type)
    {
        self::$asked = null;
        if (is_array($months)) {
            return $months;
        }
        $key = self::key((string) $post_type);
        $kept = wp_cache_get($key, self::GROUP);
        if (is_array($kept)) {
            return $kept;
        }
        self::$asked = $key;
        return $months;
    }

    // First on months_dropdown_results: WordPress's answer, as it came.
    public static function keep($months)
    {
        if (self::$asked !== null && is_array($months)) {
            wp_cache_set(self::$asked, $months, self::GROUP);
        }
        self::$asked = null;
        return $months;
    }
}

add_filter('pre_months_dropdown_query', ['Inception_Months', 'serve'], PHP_INT_MAX, 2);
add_filter('months_dropdown_results', ['Inception_Months', 'keep'], PHP_INT_MIN);
