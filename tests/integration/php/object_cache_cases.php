<?php
// The object-cache drop-in's own tests, run inside the wordpress container
// through php-fpm (so APCu is on, as for the site), against the real Redis
// and a real WordPress. tests/integration/test_object_cache.py sends it in and
// calls it once per phase (QUERY_STRING "phase=<name>"), stopping and
// starting Redis between phases. It answers one JSON object: each case's
// name with true, or what went wrong.

require '/var/www/html/wp-load.php';

header('Content-Type: application/json');

$results = [];

function check(string $name, callable $case): void
{
    global $results;
    try {
        $outcome = $case();
        $results[$name] = $outcome === true ? true : (string) ($outcome ?: 'false');
    } catch (Throwable $error) {
        $results[$name] = get_class($error) . ': ' . $error->getMessage();
    }
}

// Redis as another client sees it, past the drop-in.
function raw_redis(): Redis
{
    $redis = new Redis();
    $redis->connect('redis', 6379, 0.5);
    $redis->setOption(Redis::OPT_READ_TIMEOUT, 0.5);
    $redis->auth(rtrim((string) file_get_contents('/run/inception/redis_password'), "\n"));
    return $redis;
}

function redis_keys(string $pattern): array
{
    $redis = raw_redis();
    $keys = [];
    $cursor = null;
    do {
        $batch = $redis->scan($cursor, $pattern, 1000);
        $keys = array_merge($keys, $batch ?: []);
    } while ($cursor);
    return $keys;
}

// Forgets this request's copy: the next read goes to APCu, then Redis.
function forget(): void
{
    wp_cache_flush_runtime();
}

function elapsed(callable $call): float
{
    $started = microtime(true);
    $call();
    return microtime(true) - $started;
}

parse_str($_SERVER['QUERY_STRING'] ?? '', $query);
$phase = $query['phase'] ?? '';
$run = $query['run'] ?? 'run';

if ($phase === 'basic') {
    check('set then get gives the value back, objects as copies', function () use ($run) {
        $object = (object) ['n' => 1];
        wp_cache_set("obj-$run", $object, 'cases');
        $object->n = 2;
        $got = wp_cache_get("obj-$run", 'cases');
        $got->n = 3;
        forget();
        return wp_cache_get("obj-$run", 'cases')->n === 1 ?: 'the cache kept a reference';
    });
    check('a missing key is a miss', function () use ($run) {
        $value = wp_cache_get("missing-$run", 'cases', false, $found);
        return $value === false && $found === false;
    });
    check('add stores only what is not there', function () use ($run) {
        return wp_cache_add("add-$run", 'first', 'cases') === true
            && wp_cache_add("add-$run", 'second', 'cases') === false
            && wp_cache_get("add-$run", 'cases') === 'first';
    });
    check('add is atomic: a value another process stored wins', function () use ($run) {
        // Stored by "another process" straight into Redis, under the key the
        // drop-in uses; this request has never seen it.
        $key = "race-$run";
        wp_cache_set($key, 'probe', 'cases');
        $full = redis_keys("wp:*:5:cases:$key")[0] ?? null;
        if ($full === null) {
            return 'no key in Redis for the probe';
        }
        forget();
        apcu_delete($full);
        raw_redis()->set($full, serialize('theirs'));
        return wp_cache_add($key, 'mine', 'cases') === false
            ?: 'add() replaced a value another process had stored';
    });
    check('a value Redis holds that this site did not sign is never unserialized', function () use ($run) {
        $key = "forged-$run";
        wp_cache_set($key, 'probe', 'cases');
        $full = redis_keys("wp:*:5:cases:$key")[0] ?? null;
        if ($full === null) {
            return 'no key in Redis for the probe';
        }
        // What someone holding Redis's password, but not the site's salts,
        // could write: an object of a class WordPress knows.
        raw_redis()->set($full, serialize(new WP_Error('forged', 'written past the site')));
        forget();
        apcu_delete($full);
        $value = wp_cache_get($key, 'cases', false, $found);
        return ($value === false && $found === false) ?: 'got ' . var_export($value, true);
    });
    check('replace changes only what is there', function () use ($run) {
        return wp_cache_replace("replace-$run", 'x', 'cases') === false
            && wp_cache_set("replace-$run", 'old', 'cases')
            && wp_cache_replace("replace-$run", 'new', 'cases') === true
            && wp_cache_get("replace-$run", 'cases') === 'new';
    });
    check('delete removes from every level', function () use ($run) {
        wp_cache_set("delete-$run", 'v', 'cases');
        $deleted = wp_cache_delete("delete-$run", 'cases');
        forget();
        return $deleted === true && wp_cache_get("delete-$run", 'cases') === false
            && redis_keys("wp:*:5:cases:delete-$run") === [];
    });
    check('incr and decr count, never below zero', function () use ($run) {
        wp_cache_set("count-$run", 5, 'cases');
        return wp_cache_incr("count-$run", 2, 'cases') === 7
            && wp_cache_decr("count-$run", 10, 'cases') === 0
            && wp_cache_incr("nothing-$run", 1, 'cases') === false;
    });
    check('groups keep their own values', function () use ($run) {
        wp_cache_set("same-$run", 'one', 'group-one');
        wp_cache_set("same-$run", 'two', 'group-two');
        forget();
        return wp_cache_get("same-$run", 'group-one') === 'one' && wp_cache_get("same-$run", 'group-two') === 'two';
    });
    check('a group and a key with colons never meet another pair', function () use ($run) {
        wp_cache_set("c-$run", 'first', 'a:b');
        wp_cache_set("b:c-$run", 'second', 'a');
        forget();
        return wp_cache_get("c-$run", 'a:b') === 'first' && wp_cache_get("b:c-$run", 'a') === 'second';
    });
    check('a non-persistent group stays in the request', function () use ($run) {
        wp_cache_add_non_persistent_groups(['cases-local']);
        wp_cache_set("local-$run", 'here only', 'cases-local');
        $here = wp_cache_get("local-$run", 'cases-local') === 'here only';
        return $here && redis_keys("wp:*cases-local*") === [] && apcu_exists("wp:s:11:cases-local:local-$run") === false;
    });
    check('what is set reaches Redis, with a time to live', function () use ($run) {
        wp_cache_set("shared-$run", 'v', 'cases', 60);
        $keys = redis_keys("wp:*:5:cases:shared-$run");
        return count($keys) === 1 && raw_redis()->ttl($keys[0]) > 0 && raw_redis()->ttl($keys[0]) <= 60;
    });
    check('an entry expires', function () use ($run) {
        wp_cache_set("expires-$run", 'v', 'cases', 1);
        sleep(2);
        forget();
        apcu_delete(redis_keys("wp:*:5:cases:expires-$run")[0] ?? 'none');
        return wp_cache_get("expires-$run", 'cases') === false;
    });
    check('a transient keeps the lifetime it was given, past five minutes', function () use ($run) {
        set_transient("lasting-$run", 'v', DAY_IN_SECONDS);
        wp_cache_set("bounded-$run", 'v', 'cases', DAY_IN_SECONDS);
        $transient = raw_redis()->ttl(redis_keys("wp:s:9:transient:lasting-$run")[0] ?? 'none');
        $bounded = raw_redis()->ttl(redis_keys("wp:*:5:cases:bounded-$run")[0] ?? 'none');
        delete_transient("lasting-$run");
        return ($transient > 300 && $transient <= DAY_IN_SECONDS && $bounded > 0 && $bounded <= 300)
            ?: "the transient's time to live $transient s, another group's $bounded s";
    });
    check('a transient given no end has none, APCu keeping a short copy', function () use ($run) {
        // As WordPress keeps the Site Health result and the update checks.
        set_transient("endless-$run", 'v');
        set_site_transient("endless-$run", 'v');
        $added = wp_cache_add("endless-added-$run", 'v', 'transient');
        $keys = ["wp:s:9:transient:endless-$run", "wp:g:14:site-transient:endless-$run",
            "wp:s:9:transient:endless-added-$run"];
        $ttls = array_map(fn (string $key) => raw_redis()->ttl($key), $keys);
        $near = apcu_key_info($keys[0])['ttl'] ?? null;
        forget();
        $back = get_transient("endless-$run") === 'v' && get_site_transient("endless-$run") === 'v';
        delete_transient("endless-$run");
        delete_site_transient("endless-$run");
        wp_cache_delete("endless-added-$run", 'transient');
        return ($added && $ttls === [-1, -1, -1] && $near === INCEPTION_L1_TTL && $back)
            ?: 'added ' . var_export($added, true) . ', times to live in Redis ' . json_encode($ttls)
                . ", in APCu $near, read back " . var_export($back, true);
    });
    check('keys that are not keys are refused, never fatal', function () {
        return wp_cache_get(null) === false && wp_cache_set([], 'v') === false
            && wp_cache_get('') === false && wp_cache_delete(new stdClass()) === false
            && wp_cache_add(null, 1) === false;
    });
    check('flush empties every level', function () use ($run) {
        wp_cache_set("flushed-$run", 'v', 'cases');
        wp_cache_flush();
        forget();
        return wp_cache_get("flushed-$run", 'cases') === false && redis_keys("wp:*:5:cases:*-$run") === [];
    });
    check('the site still reads its options through the cache', function () {
        return get_option('siteurl') === WP_SITEURL;
    });
} elseif ($phase === 'before-failure') {
    // A value Redis holds, then deleted while Redis cannot answer.
    check('the stale probe is stored', function () use ($run) {
        wp_cache_set("stale-$run", 'old', 'cases');
        return count(redis_keys("wp:*:5:cases:stale-$run")) === 1;
    });
} elseif ($phase === 'redis-hung') {
    check('a read waits no longer than the timeout', function () use ($run) {
        $seconds = elapsed(fn () => wp_cache_get("anything-$run", 'cases', true));
        return $seconds < 1.5 ?: "waited $seconds s";
    });
    check('the next requests leave Redis alone', function () {
        return apcu_exists('inception:redis-down') ?: 'no back-off mark';
    });
    check('a delete Redis missed is remembered', function () use ($run) {
        wp_cache_delete("stale-$run", 'cases');
        return apcu_exists('inception:redis-stale') ?: 'no mark';
    });
    check('the site answers from APCu and the database', function () {
        $seconds = elapsed(fn () => get_option('blogname'));
        return $seconds < 0.5 ?: "took $seconds s";
    });
} elseif ($phase === 'redis-back') {
    check('a value deleted while Redis was hung never comes back', function () use ($run) {
        $value = wp_cache_get("stale-$run", 'cases');
        return $value === false ?: 'got ' . var_export($value, true);
    });
    check('Redis is used again, the marks cleared', function () use ($run) {
        wp_cache_set("after-$run", 'v', 'cases');
        return count(redis_keys("wp:*:5:cases:after-$run")) === 1
            && !apcu_exists('inception:redis-stale') && !apcu_exists('inception:redis-down');
    });
} else {
    $results['phase'] = "unknown phase '$phase'";
}

echo json_encode($results, JSON_PRETTY_PRINT), "\n";
