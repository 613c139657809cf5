<?php
//
// Ansible managed
//
// Install WordPress once, with no wp-cli and no install page: the site, its
// administrator and a second, ordinary user; and upgrade the database once
// when the files are of a newer WordPress than it. Each step is skipped when
// done, so an interrupted first start finishes at the next one.

function setting(string $name): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        fwrite(STDERR, "wp-install: $name is not set\n");
        exit(1);
    }
    return $value;
}

function fail_on_error($result, string $what)
{
    if (is_wp_error($result)) {
        fwrite(STDERR, "wp-install: $what failed: " . $result->get_error_message() . "\n");
        exit(1);
    }
    return $result;
}

$domain = setting('DOMAIN_NAME');
$_SERVER['HTTP_HOST'] = $domain;
$_SERVER['HTTPS'] = 'on';
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);

require '/var/www/html/wp-load.php';

// The stack sends no mail (no MTA): skip the "your new site" mail rather than
// fail to send it. WordPress lets an install replace this function.
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
{
}

require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-includes/user.php';

$admin = setting('WP_ADMIN_USER');
$user = setting('WP_USER');

if (!is_blog_installed()) {
    fwrite(STDERR, "wp-install: installing the site for https://$domain\n");
    // WordPress keeps the title HTML-escaped, after stripping the tags it
    // does not allow: escaped first, every character stays as written.
    $result = wp_install(
        esc_html(setting('WP_TITLE')),
        $admin,
        setting('WP_ADMIN_EMAIL'),
        true,
        '',
        wp_slash(setting('WP_ADMIN_PASSWORD'))
    );
    fail_on_error($result, 'the installation');
    // Avatars come from gravatar.com: they would leak each commenter's
    // hashed e-mail to a third party, and show broken images offline.
    update_option('show_avatars', 0);
}

if (!username_exists($user)) {
    fwrite(STDERR, "wp-install: creating the user $user\n");
    fail_on_error(wp_insert_user([
        'user_login' => $user,
        'user_email' => setting('WP_USER_EMAIL'),
        // Slashed as WordPress's login form hands it over, like the
        // administrator's above: else a quote or a backslash never matches.
        'user_pass' => wp_slash(setting('WP_USER_PASSWORD')),
        'role' => 'author',
    ]), "creating the user $user");
}

// Files of a newer WordPress than the database (an upgrade in place, or one
// an earlier start left unfinished): WordPress's own database upgrade, once.
global $wp_db_version, $wp_version;
$stored_db_version = (int) get_option('db_version');
if ($stored_db_version < $wp_db_version) {
    wp_upgrade();
    wp_cache_flush();
    $upgraded_db_version = (int) get_option('db_version', 0);
    if ($upgraded_db_version !== (int) $wp_db_version) {
        fwrite(STDERR, "wp-install: the database upgrade to WordPress $wp_version did not finish "
            . "(db_version $upgraded_db_version, $wp_db_version expected)\n");
        exit(1);
    }
    $from = getenv('WP_UPGRADED_FROM') ?: 'an earlier version';
    fwrite(STDERR, "wp-install: upgraded WordPress from $from to $wp_version "
        . "(database version $stored_db_version to $wp_db_version)\n");
}
