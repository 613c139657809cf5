<?php
//
// Ansible managed
//
// The dashboard's counts of posts by status kept in the object cache. Every
// load of a list of posts asks MariaDB how many posts of its type each
// status holds ("All (10,000) | Published (9,990) | ..."): a count of every
// such post. On the large site of `make benchmark-size` (10,000 posts) that
// query was ~5 % of the list's time (docs/BENCHMARKS.md, "A site of real
// size"). WordPress keeps its counts for one request only: its own cache
// forgets them only on a status change, so a kept copy could outlive a
// deleted post.
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. What is
// kept is WordPress's own answer (wp_count_posts, before any plugin's filter
// on it: those still run on every load) for all of a type's posts, under a
// key made of the type and WordPress's "last changed" mark for posts, which
// a save, a status change and a deletion move (the same mark its own query
// caches follow). A list of posts finds it in WordPress's per-request cache
// of counts, where wp_count_posts looks first; WordPress checks there that
// every status registered now is counted, and asks MariaDB again if not.

defined('ABSPATH') || exit;

final class Inception_Counts
{
    const GROUP = 'inception-counts';

    // The key each type's counts are to be kept under, named before they
    // are counted: a post changed meanwhile moves the mark past it.
    private static array $asked = [];

    // On load-edit.php, before the list counts: the kept counts of its type
    // where WordPress looks first, or the key to keep its own answer under.
    public static function serve(): void
    {
        global $typenow;
        if (!is_string($typenow) || $typenow === '') {
            return;
        }
        $key = $typenow . ':' . wp_cache_get_last_changed('posts');
        $kept = wp_cache_get($key, self::GROUP);
        if (is_object($kept)) {
            wp_cache_set(_count_posts_cache_key($typenow), $kept, 'counts');
        } else {
            self::$asked[$typenow] = $key;
        }
    }

    // First on wp_count_posts: WordPress's counts of every post, as they came.
    public static function keep($counts, $type, $perm)
    {
        $type = (string) $type;
        if (isset(self::$asked[$type]) && is_object($counts)
            && _count_posts_cache_key($type, (string) $perm) === _count_posts_cache_key($type)) {
            wp_cache_set(self::$asked[$type], $counts, self::GROUP);
            unset(self::$asked[$type]);
        }
        return $counts;
    }
}

add_action('load-edit.php', ['Inception_Counts', 'serve']);
add_filter('wp_count_posts', ['Inception_Counts', 'keep'], PHP_INT_MIN, 3);
