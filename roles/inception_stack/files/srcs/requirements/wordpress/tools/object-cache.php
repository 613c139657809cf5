<?php
//
// Ansible managed
//
// WordPress's object cache. Installed by the image's entrypoint as
// wp-content/object-cache.php (a "drop-in"); WordPress adds the functions
// this file leaves out (cache-compat.php). Three levels, nearest first:
//
// 1. this request's own copy;
// 2. APCu: the shared memory of php-fpm's master, so every worker reads what
//    another stored, with no network round trip;
// 3. Redis, when the Redis bonus service is on (INCEPTION_REDIS_HOST): shared
//    with every other PHP process, php's command line included, and the level
//    that holds the truth. APCu then keeps a copy for INCEPTION_L1_TTL seconds
//    only, so a change made elsewhere reaches the site within that time.
//
// Without Redis, php's command line has no shared cache at all (it has no
// APCu): what a command-line script changes reaches the site when the
// entries it touched expire (at most INCEPTION_OBJECT_CACHE_MAX_TTL seconds).
//
// When Redis fails (down, or hung: SIGSTOP, a full network), the site keeps
// working on levels 1 and 2 and the database, as the maintained Redis drop-ins
// do:
// - every call to Redis gives up after INCEPTION_REDIS_TIMEOUT seconds, and
//   a failure is remembered in APCu for INCEPTION_REDIS_BACKOFF seconds, so
//   the other workers and the next requests do not wait for it too;
// - a write or a delete that did not reach Redis leaves Redis holding a value
//   that is no longer true (a deleted session, an old password hash): it is
//   remembered in APCu, and the first process that reaches Redis again
//   empties it before using it. (php's command line has no APCu: a write it
//   could not send expires with its entry, INCEPTION_OBJECT_CACHE_MAX_TTL.)

defined('ABSPATH') || exit;

// Five minutes: long enough to matter, short enough to bound staleness.
const INCEPTION_OBJECT_CACHE_MAX_TTL = 300;
// APCu's copy when Redis holds the truth.
const INCEPTION_L1_TTL = 10;
// Connecting to Redis, and waiting for each answer: a page waits at most this.
const INCEPTION_REDIS_TIMEOUT = 0.5;
// How long every worker leaves Redis alone after a failure.
const INCEPTION_REDIS_BACKOFF = 10;
// APCu's marks: Redis failed lately; Redis missed a write.
const INCEPTION_REDIS_DOWN = 'inception:redis-down';
const INCEPTION_REDIS_STALE = 'inception:redis-stale';

final class Inception_Object_Cache
{
    /** @var array<string, mixed> this request's copy, by full key */
    private array $local = [];
    /** @var array<string, true> */
    private array $global_groups = [];
    /** @var array<string, true> groups never stored in APCu */
    private array $local_groups = [];
    private string $blog_prefix = 's';
    private bool $shared;
    /** Redis is configured: what is written must reach it, or be marked. */
    private bool $redis_wanted = false;
    private ?Redis $redis = null;
    private int $l1_ttl = INCEPTION_OBJECT_CACHE_MAX_TTL;
    public int $cache_hits = 0;
    public int $cache_misses = 0;

    public function __construct()
    {
        $this->shared = function_exists('apcu_enabled') && apcu_enabled();
        $this->blog_prefix = is_multisite() ? 's' . get_current_blog_id() : 's';
        $host = getenv('INCEPTION_REDIS_HOST');
        if ($host !== false && $host !== '') {
            $this->redis_wanted = true;
            $this->l1_ttl = INCEPTION_L1_TTL;
            if (!($this->shared && apcu_exists(INCEPTION_REDIS_DOWN))) {
                $this->redis = $this->connect($host);
            }
        }
    }

    private function connect(string $host): ?Redis
    {
        $redis = new Redis();
        try {
            $password = is_readable('/run/inception/redis_password')
                ? rtrim((string) file_get_contents('/run/inception/redis_password'), "\n") : '';
            // One connection per php-fpm worker, kept between requests.
            // phpredis sends the password itself (the context's "auth"):
            // when it opens a connection, and with the ECHO by which it
            // checks a kept one before reusing it. Redis's ACL must allow
            // ECHO, or every request opens a new connection.
            $auth = ['auth' => $password];
            if (!$redis->pconnect($host, 6379, INCEPTION_REDIS_TIMEOUT, 'inception', 0, 0, $auth)) {
                throw new RuntimeException('no connection, or the password was refused');
            }
            $redis->setOption(Redis::OPT_READ_TIMEOUT, INCEPTION_REDIS_TIMEOUT);
            // A write missed while Redis was out of reach: what it holds may
            // be stale, so it is emptied before anything is read from it.
            if ($this->shared && apcu_exists(INCEPTION_REDIS_STALE)) {
                $redis->flushDb();
                apcu_delete(INCEPTION_REDIS_STALE);
                error_log('object-cache: Redis is back; emptied it, since a write had missed it');
            }
            return $redis;
        } catch (Throwable $error) {
            $this->redis = $redis;
            $this->failed('unreachable', $error);
            return null;
        }
    }

    // Redis failed: every worker leaves it alone for a while. The kept
    // connection is closed: a hung server's late answer to the question that
    // timed out must never be read as the answer to the next one.
    private function failed(string $what, Throwable $error): void
    {
        error_log('object-cache: Redis ' . $what . ', using APCu and the database for '
            . INCEPTION_REDIS_BACKOFF . ' s: ' . $error->getMessage());
        try {
            $this->redis?->close();
        } catch (Throwable) {
            // Already gone.
        }
        $this->redis = null;
        if ($this->shared) {
            apcu_store(INCEPTION_REDIS_DOWN, true, INCEPTION_REDIS_BACKOFF);
        }
    }

    // A write or a delete Redis did not get: what it holds may be stale.
    private function missed_write(): void
    {
        if ($this->shared) {
            apcu_store(INCEPTION_REDIS_STALE, true);
        }
    }

    private function redis_read(callable $call): mixed
    {
        if ($this->redis === null) {
            return false;
        }
        try {
            return $call($this->redis);
        } catch (Throwable $error) {
            $this->failed('failed', $error);
            return false;
        }
    }

    // A write: true when Redis answered, whatever it answered (in $result).
    private function redis_write(callable $call, mixed &$result = null): bool
    {
        if (!$this->redis_wanted) {
            return false;
        }
        if ($this->redis !== null) {
            try {
                $result = $call($this->redis);
                return true;
            } catch (Throwable $error) {
                $this->failed('failed', $error);
            }
        }
        $this->missed_write();
        return false;
    }

    // A group of any name and a key of any text give distinct keys: the
    // group's length says where it ends; global groups are shared by sites.
    private function key(string|int $key, string $group): string
    {
        $group = $group === '' ? 'default' : $group;
        $scope = isset($this->global_groups[$group]) ? 'g' : $this->blog_prefix;
        return 'wp:' . $scope . ':' . strlen($group) . ':' . $group . ':' . $key;
    }

    // Groups WordPress marks non-persistent stay in the request.
    private function keeps(string $group): bool
    {
        return !isset($this->local_groups[$group === '' ? 'default' : $group]);
    }

    private function persists(string $group): bool
    {
        return $this->shared && $this->keeps($group);
    }

    // Objects are copied in and out, as WordPress's own cache does, so a
    // caller changing what it got does not change the cache.
    private static function copy(mixed $value): mixed
    {
        return is_object($value) ? clone $value : $value;
    }

    // What goes to Redis is signed with the site's own secret (its salts,
    // which Redis never sees), and only what carries that signature is ever
    // unserialized: a value someone else wrote into Redis (unserialize can
    // build objects of any class WordPress and its plugins cache, so the
    // classes cannot be narrowed) is a miss, never code.
    private static function sealed(string $full, mixed $data): string
    {
        $payload = serialize($data);
        return hash_hmac('sha256', $full . "\n" . $payload, self::signing_key()) . $payload;
    }

    private static function opened(string $full, string $raw): ?string
    {
        $payload = substr($raw, 64);
        $signature = hash_hmac('sha256', $full . "\n" . $payload, self::signing_key());
        if (strlen($raw) < 64 || !hash_equals($signature, substr($raw, 0, 64))) {
            error_log('object-cache: a value in Redis not signed by this site was ignored: ' . $full);
            return null;
        }
        return $payload;
    }

    private static function signing_key(): string
    {
        return 'inception-object-cache:' . (defined('AUTH_KEY') ? AUTH_KEY : '')
            . (defined('SECURE_AUTH_SALT') ? SECURE_AUTH_SALT : '');
    }

    private static function ttl(int $expire): int
    {
        return $expire > 0 ? min($expire, INCEPTION_OBJECT_CACHE_MAX_TTL) : INCEPTION_OBJECT_CACHE_MAX_TTL;
    }

    // Keeps a value in this request and in APCu (for the time APCu may).
    private function keep_near(string $full, mixed $data, string $group, int $expire): void
    {
        $this->local[$full] = self::copy($data);
        if ($this->persists($group)) {
            apcu_store($full, $data, min(self::ttl($expire), $this->l1_ttl));
        }
    }

    public function get(string|int $key, string $group = 'default', bool $force = false, ?bool &$found = null): mixed
    {
        $full = $this->key($key, $group);
        if (!$force && array_key_exists($full, $this->local)) {
            $found = true;
            $this->cache_hits++;
            return self::copy($this->local[$full]);
        }
        $found = false;
        $value = false;
        if ($this->persists($group)) {
            $value = apcu_fetch($full, $found);
        }
        if (!$found && $this->keeps($group)) {
            $raw = $this->redis_read(fn (Redis $redis) => $redis->get($full));
            $payload = is_string($raw) ? self::opened($full, $raw) : null;
            if ($payload !== null) {
                $found = true;
                $value = unserialize($payload);
                if ($this->persists($group)) {
                    apcu_store($full, $value, $this->l1_ttl);
                }
            }
        }
        if (!$found) {
            $this->cache_misses++;
            return false;
        }
        $this->cache_hits++;
        $this->local[$full] = $value;
        return self::copy($value);
    }

    public function get_multiple(array $keys, string $group = 'default', bool $force = false): array
    {
        $values = [];
        foreach ($keys as $key) {
            $values[$key] = $this->get($key, $group, $force);
        }
        return $values;
    }

    public function set(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        $full = $this->key($key, $group);
        $this->keep_near($full, $data, $group, $expire);
        if ($this->keeps($group)) {
            $this->redis_write(fn (Redis $redis) => $redis->setEx($full, self::ttl($expire), self::sealed($full, $data)));
        }
        return true;
    }

    // Stores only what no one has stored: atomic where the value is shared
    // (Redis's SET NX, else APCu's add), so two requests never both win.
    public function add(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        return $this->store_if($key, $data, $group, $expire, false);
    }

    // Stores only over a value that is there (Redis's SET XX where shared).
    public function replace(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        return $this->store_if($key, $data, $group, $expire, true);
    }

    private function store_if(string|int $key, mixed $data, string $group, int $expire, bool $exists): bool
    {
        $full = $this->key($key, $group);
        if ($this->keeps($group)) {
            $condition = $exists ? 'xx' : 'nx';
            $answer = null;
            $sent = $this->redis_write(
                fn (Redis $redis) => $redis->set($full, self::sealed($full, $data), [$condition, 'ex' => self::ttl($expire)]),
                $answer
            );
            if ($sent) {
                if ($answer !== true) {
                    return false;
                }
                $this->keep_near($full, $data, $group, $expire);
                return true;
            }
            if ($this->shared && !$exists) {
                if (array_key_exists($full, $this->local) || !apcu_add($full, $data, min(self::ttl($expire), $this->l1_ttl))) {
                    return false;
                }
                $this->local[$full] = self::copy($data);
                return true;
            }
        }
        $this->get($key, $group, false, $found);
        if ($found !== $exists) {
            return false;
        }
        $this->keep_near($full, $data, $group, $expire);
        return true;
    }

    public function delete(string|int $key, string $group = 'default'): bool
    {
        $full = $this->key($key, $group);
        $existed = array_key_exists($full, $this->local);
        unset($this->local[$full]);
        if ($this->persists($group)) {
            $existed = apcu_delete($full) || $existed;
        }
        if ($this->keeps($group)) {
            $deleted = 0;
            $this->redis_write(fn (Redis $redis) => $redis->del($full), $deleted);
            $existed = $deleted > 0 || $existed;
        }
        return $existed;
    }

    public function incr(string|int $key, int $offset = 1, string $group = 'default'): int|false
    {
        $value = $this->get($key, $group, true, $found);
        if (!$found) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    public function flush(): bool
    {
        $this->local = [];
        $this->redis_write(fn (Redis $redis) => $redis->flushDb());
        if (!$this->shared) {
            return true;
        }
        // APCu's marks survive the flush: a missed write stays known.
        $stale = apcu_exists(INCEPTION_REDIS_STALE);
        $down = apcu_exists(INCEPTION_REDIS_DOWN);
        $flushed = apcu_clear_cache();
        if ($stale) {
            apcu_store(INCEPTION_REDIS_STALE, true);
        }
        if ($down) {
            apcu_store(INCEPTION_REDIS_DOWN, true, INCEPTION_REDIS_BACKOFF);
        }
        return $flushed;
    }

    public function flush_runtime(): bool
    {
        $this->local = [];
        return true;
    }

    public function add_global_groups(array $groups): void
    {
        $this->global_groups += array_fill_keys($groups, true);
    }

    public function add_non_persistent_groups(array $groups): void
    {
        $this->local_groups += array_fill_keys($groups, true);
    }

    public function switch_to_blog(int $blog_id): void
    {
        $this->blog_prefix = is_multisite() ? 's' . $blog_id : 's';
    }

    public function stats(): void
    {
        printf("<p>Cache hits: %d, misses: %d, shared: %s</p>", $this->cache_hits, $this->cache_misses,
            trim(($this->shared ? 'APCu ' : '') . ($this->redis !== null ? 'Redis' : '')) ?: 'no');
    }
}

// A key WordPress's own cache accepts: an integer, or a string that is not
// empty. Anything else (null, an array, an object) is refused as WordPress
// refuses it, with a notice for the developer, never a fatal error.
function inception_cache_key_is_valid($key): bool
{
    if (is_int($key) || (is_string($key) && $key !== '')) {
        return true;
    }
    if (function_exists('_doing_it_wrong')) {
        _doing_it_wrong(__FUNCTION__, 'Cache keys must be integers or non-empty strings; got '
            . gettype($key) . '.', '6.1.0');
    }
    return false;
}

function wp_cache_init(): void
{
    $GLOBALS['wp_object_cache'] = new Inception_Object_Cache();
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    if (!inception_cache_key_is_valid($key)) {
        $found = false;
        return false;
    }
    return $GLOBALS['wp_object_cache']->get($key, (string) $group, (bool) $force, $found);
}

function wp_cache_get_multiple($keys, $group = '', $force = false)
{
    $values = [];
    foreach ((array) $keys as $key) {
        $values[$key] = wp_cache_get($key, $group, $force);
    }
    return $values;
}

function wp_cache_set($key, $data, $group = '', $expire = 0)
{
    return inception_cache_key_is_valid($key)
        && $GLOBALS['wp_object_cache']->set($key, $data, (string) $group, (int) $expire);
}

function wp_cache_add($key, $data, $group = '', $expire = 0)
{
    return inception_cache_key_is_valid($key)
        && $GLOBALS['wp_object_cache']->add($key, $data, (string) $group, (int) $expire);
}

function wp_cache_replace($key, $data, $group = '', $expire = 0)
{
    return inception_cache_key_is_valid($key)
        && $GLOBALS['wp_object_cache']->replace($key, $data, (string) $group, (int) $expire);
}

function wp_cache_delete($key, $group = '')
{
    return inception_cache_key_is_valid($key) && $GLOBALS['wp_object_cache']->delete($key, (string) $group);
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return inception_cache_key_is_valid($key)
        ? $GLOBALS['wp_object_cache']->incr($key, (int) $offset, (string) $group) : false;
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return inception_cache_key_is_valid($key)
        ? $GLOBALS['wp_object_cache']->incr($key, -(int) $offset, (string) $group) : false;
}

function wp_cache_flush()
{
    return $GLOBALS['wp_object_cache']->flush();
}

function wp_cache_flush_runtime()
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_close()
{
    return true;
}

function wp_cache_add_global_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_global_groups((array) $groups);
}

function wp_cache_add_non_persistent_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_non_persistent_groups((array) $groups);
}

function wp_cache_switch_to_blog($blog_id)
{
    $GLOBALS['wp_object_cache']->switch_to_blog((int) $blog_id);
}

function wp_cache_reset()
{
    $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_supports($feature)
{
    return in_array($feature, ['get_multiple', 'flush_runtime'], true);
}
