<?php
//
// Ansible managed
//
// The authors of WordPress's drop-downs kept in the object cache. The
// dashboard's list of posts prints two of them (quick edit and bulk edit),
// and each asks MariaDB for every user who may write posts: a scan of the
// users' capabilities. On the large site of `make benchmark-size` (200
// authors) the two were ~6 % of the list's time (docs/BENCHMARKS.md, "A site
// of real size"). WordPress 6.1 keeps no user query: 6.3 started to.
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. Only the
// queries of wp_dropdown_users() are kept (they are marked on the way in);
// what is kept is the answer of the same SQL WordPress would send, under a
// key made of that SQL (so of every argument, role and blog it names) and of
// a mark this plugin moves on every change to any user: one added, changed
// or deleted, a role given or taken, any of their meta (capabilities are
// meta). A query that reads posts (the authors who have published) follows
// WordPress's "last changed" mark for posts too. A plugin that answers the
// query itself is left alone: its answer is neither replaced nor kept.

defined('ABSPATH') || exit;

final class Inception_Authors
{
    const GROUP = 'inception-authors';

    // The query variable that marks a drop-down's query.
    const MARK = 'inception_authors_kept';

    // On wp_dropdown_users_args: mark the query as one this plugin may keep.
    public static function mark($query_args)
    {
        if (is_array($query_args)) {
            $query_args[self::MARK] = true;
        }
        return $query_args;
    }

    // Any change to any user: every kept answer is stale.
    public static function changed(): void
    {
        wp_cache_set('last_changed', microtime(), self::GROUP);
    }

    private static function copies(array $rows): array
    {
        return array_map(fn ($row) => is_object($row) ? clone $row : $row, $rows);
    }

    // Last on users_pre_query: the kept answer, or the query's answer kept.
    public static function serve($results, $query)
    {
        if ($results !== null || !($query instanceof WP_User_Query) || !$query->get(self::MARK)) {
            return $results;
        }
        global $wpdb;
        $fields = $query->get('fields');
        $counted = (bool) $query->get('count_total');
        $sql = "SELECT {$query->query_fields} {$query->query_from} {$query->query_where}"
            . " {$query->query_orderby} {$query->query_limit}";
        // A LIKE's % is held by a placeholder that changes with every
        // request until the query is sent: the key names the real SQL.
        $key = md5($wpdb->remove_placeholder_escape($sql)) . ':' . (is_array($fields) ? 'rows' : 'column')
            . ':' . (int) $counted . ':' . wp_cache_get_last_changed(self::GROUP);
        if (strpos($sql, $wpdb->posts) !== false) {
            $key .= ':' . wp_cache_get_last_changed('posts');
        }
        $kept = wp_cache_get($key, self::GROUP);
        if (is_array($kept) && count($kept) === 2) {
            // WordPress changes the rows it is given: the kept ones stay as kept.
            [$rows, $total] = $kept;
            $rows = self::copies($rows);
        } else {
            // What WP_User_Query::query() itself sends for this query. An
            // error is not an answer: WordPress then runs the query itself.
            $rows = is_array($fields) ? $wpdb->get_results($sql) : $wpdb->get_col($sql);
            if ($wpdb->last_error !== '') {
                return null;
            }
            $total = 0;
            if ($counted) {
                $found = apply_filters('found_users_query', 'SELECT FOUND_ROWS()', $query);
                $total = (int) $wpdb->get_var($found);
                if ($wpdb->last_error !== '') {
                    return null;
                }
            }
            wp_cache_set($key, [self::copies($rows), $total], self::GROUP);
        }
        $query->request = $sql;
        if ($counted) {
            $query->total_users = $total;
        }
        return $rows;
    }
}

// Users belong to every site of a network: so does the mark (the SQL in each
// key names its site's own tables).
wp_cache_add_global_groups([Inception_Authors::GROUP]);
add_filter('wp_dropdown_users_args', ['Inception_Authors', 'mark'], PHP_INT_MAX);
add_filter('users_pre_query', ['Inception_Authors', 'serve'], PHP_INT_MAX, 2);
foreach ([
    'clean_user_cache', 'user_register', 'profile_update', 'deleted_user',
    'added_user_meta', 'updated_user_meta', 'deleted_user_meta',
    'set_user_role', 'add_user_role', 'remove_user_role',
    'add_user_to_blog', 'remove_user_from_blog',
] as $inception_authors_hook) {
    add_action($inception_authors_hook, ['Inception_Authors', 'changed']);
}
unset($inception_authors_hook);
