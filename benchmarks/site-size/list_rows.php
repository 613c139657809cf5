<?php
// The dashboard's list of posts, its rows timed alone: what one row costs
// in CPU, without the noise of a load generator (docs/BENCHMARKS.md, step
// 13). Run by `make benchmark-size` with php's command line in the
// wordpress container, under the opcache and JIT settings php-fpm has:
//
//   php list_rows.php <renders> <administrator's login>
//   php -- <renders> <administrator's login> < list_rows.php
//
// (the benchmark uses the second: nothing is copied into the container;
// php then defines no STDERR, so errors go to php://stderr by name).
//
// Loads WordPress as that administrator on the list's screen, renders the
// rows WordPress shows (as many as the user's screen option says) once to
// warm every cache, then <renders> times, and prints one JSON object: the
// rows, the bytes of one render, the milliseconds a render and a row; and,
// counted in one more render, the filters and actions run, the options
// read and the capability checks made.

if (PHP_SAPI !== 'cli' || $argc !== 3 || !ctype_digit($argv[1]) || (int) $argv[1] < 1) {
    file_put_contents('php://stderr', "usage: php list_rows.php <renders> <administrator's login>\n");
    exit(2);
}
$renders = (int) $argv[1];
$login = $argv[2];

// What WordPress reads of the request to build its admin URLs and screen.
$_SERVER['HTTP_HOST'] = getenv('DOMAIN_NAME') ?: 'localhost';
$_SERVER['HTTPS'] = 'on';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI'] = $_SERVER['SCRIPT_NAME'] = '/wp-admin/edit.php';
define('WP_ADMIN', true);

require '/var/www/html/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-posts-list-table.php';

$user = get_user_by('login', $login);
if ($user === false || !user_can($user, 'edit_others_posts')) {
    file_put_contents('php://stderr', "list_rows.php: no administrator named by the second argument\n");
    exit(1);
}
wp_set_current_user($user->ID);
set_current_screen('edit-post');
$GLOBALS['mode'] = 'list';

$table = new WP_Posts_List_Table(['screen' => 'edit-post']);
$table->prepare_items();

$render = static function () use ($table): string {
    ob_start();
    $table->display_rows();
    return (string) ob_get_clean();
};
$html = $render();

$started = hrtime(true);
for ($i = 0; $i < $renders; $i++) {
    $render();
}
$render_ms = (hrtime(true) - $started) / $renders / 1e6;

$counted = ['hooks' => 0, 'options_read' => 0, 'capability_checks' => 0];
add_action('all', static function () use (&$counted): void {
    $counted['hooks']++;
});
add_filter('pre_option', static function ($value) use (&$counted) {
    $counted['options_read']++;
    return $value;
});
add_filter('map_meta_cap', static function ($caps) use (&$counted) {
    $counted['capability_checks']++;
    return $caps;
});
$render();

$rows = count($GLOBALS['wp_query']->posts);
echo json_encode([
    'rows' => $rows,
    'bytes' => strlen($html),
    'renders' => $renders,
    'render_ms' => round($render_ms, 3),
    'row_ms' => $rows > 0 ? round($render_ms / $rows, 3) : null,
    'per_render' => $counted,
]), "\n";
