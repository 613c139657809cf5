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
// If Redis cannot be reached, the site keeps working on levels 1 and 2.

defined('ABSPATH') || exit;

// Five minutes: long enough to matter, short enough to bound staleness.
const INCEPTION_OBJECT_CACHE_MAX_TTL = 300;
// APCu's copy when Redis holds the truth.
const INCEPTION_L1_TTL = 10;

final class Inception_Object_Cache
{
    /** @var array<string, mixed> this request's copy, by full key */
    private array $local = [];
    /** @var array<string, true> */
    private array $global_groups = [];
    /** @var array<string, true> groups never stored in APCu */
    private array $local_groups = [];
    private string $blog_prefix = '';
    private bool $shared;
    private ?Redis $redis = null;
    private int $l1_ttl = INCEPTION_OBJECT_CACHE_MAX_TTL;
    public int $cache_hits = 0;
    public int $cache_misses = 0;

    public function __construct()
    {
        $this->shared = function_exists('apcu_enabled') && apcu_enabled();
        $this->blog_prefix = is_multisite() ? get_current_blog_id() . ':' : '';
        $host = getenv('INCEPTION_REDIS_HOST');
        if ($host !== false && $host !== '') {
            $this->l1_ttl = INCEPTION_L1_TTL;
            $this->redis = self::connect($host);
        }
    }

    private static function connect(string $host): ?Redis
    {
        try {
            $password = is_readable('/run/inception/redis_password')
                ? rtrim((string) file_get_contents('/run/inception/redis_password')) : '';
            $redis = new Redis();
            // One connection per php-fpm worker, kept between requests.
            if (!$redis->pconnect($host, 6379, 1.0, 'inception') || !$redis->auth($password)) {
                throw new RuntimeException('connection or password refused');
            }
            return $redis;
        } catch (Throwable $error) {
            error_log('object-cache: Redis at ' . $host . ' unreachable, using APCu alone: ' . $error->getMessage());
            return null;
        }
    }

    private function redis_call(callable $call): mixed
    {
        try {
            return $call($this->redis);
        } catch (Throwable $error) {
            error_log('object-cache: Redis failed, using APCu alone for this request: ' . $error->getMessage());
            $this->redis = null;
            return false;
        }
    }

    private function key(string|int $key, string $group): string
    {
        $group = $group === '' ? 'default' : $group;
        $prefix = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return 'wp:' . $prefix . $group . ':' . $key;
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

    private static function ttl(int $expire): int
    {
        return $expire > 0 ? min($expire, INCEPTION_OBJECT_CACHE_MAX_TTL) : INCEPTION_OBJECT_CACHE_MAX_TTL;
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
        if ($this->persists($group)) {
            $value = apcu_fetch($full, $found);
        }
        if (!$found && $this->redis !== null && $this->keeps($group)) {
            $raw = $this->redis_call(fn (Redis $redis) => $redis->get($full));
            if (is_string($raw)) {
                $found = true;
                $value = unserialize($raw);
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
        $this->local[$full] = self::copy($data);
        if ($this->persists($group)) {
            apcu_store($full, $data, min(self::ttl($expire), $this->l1_ttl));
        }
        if ($this->redis !== null && $this->keeps($group)) {
            $this->redis_call(fn (Redis $redis) => $redis->setEx($full, self::ttl($expire), serialize($data)));
        }
        return true;
    }

    public function add(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        $this->get($key, $group, false, $found);
        return $found ? false : $this->set($key, $data, $group, $expire);
    }

    public function replace(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        $this->get($key, $group, false, $found);
        return $found ? $this->set($key, $data, $group, $expire) : false;
    }

    public function delete(string|int $key, string $group = 'default'): bool
    {
        $full = $this->key($key, $group);
        $existed = array_key_exists($full, $this->local);
        unset($this->local[$full]);
        if ($this->persists($group)) {
            $existed = apcu_delete($full) || $existed;
        }
        if ($this->redis !== null && $this->keeps($group)) {
            $existed = $this->redis_call(fn (Redis $redis) => $redis->del($full)) > 0 || $existed;
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
        if ($this->redis !== null) {
            $this->redis_call(fn (Redis $redis) => $redis->flushDb());
        }
        return !$this->shared || apcu_clear_cache();
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
        $this->blog_prefix = is_multisite() ? $blog_id . ':' : '';
    }

    public function stats(): void
    {
        printf("<p>Cache hits: %d, misses: %d, shared: %s</p>", $this->cache_hits, $this->cache_misses,
            trim(($this->shared ? 'APCu ' : '') . ($this->redis !== null ? 'Redis' : '')) ?: 'no');
    }
}

function wp_cache_init(): void
{
    $GLOBALS['wp_object_cache'] = new Inception_Object_Cache();
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    return $GLOBALS['wp_object_cache']->get($key, (string) $group, $force, $found);
}

function wp_cache_get_multiple($keys, $group = '', $force = false)
{
    return $GLOBALS['wp_object_cache']->get_multiple($keys, (string) $group, $force);
}

function wp_cache_set($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->set($key, $data, (string) $group, (int) $expire);
}

function wp_cache_add($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->add($key, $data, (string) $group, (int) $expire);
}

function wp_cache_replace($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->replace($key, $data, (string) $group, (int) $expire);
}

function wp_cache_delete($key, $group = '')
{
    return $GLOBALS['wp_object_cache']->delete($key, (string) $group);
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, (int) $offset, (string) $group);
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, -(int) $offset, (string) $group);
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
