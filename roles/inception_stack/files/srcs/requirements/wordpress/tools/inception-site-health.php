<?php
//
// Ansible managed
//
// Site Health's page cache check, taught NGINX's header. The check asks the
// home page three times and looks for a header that says a cache answered;
// WordPress 6.1 knows Cache-Control's max-age, Expires, Age, ETag,
// Last-Modified and a few plugins' headers. This stack's page cache is
// NGINX's: it keeps pages for anonymous visitors and says so in
// X-Cache-Status, which WordPress does not know. Without this, Site Health
// reports "Page cache is not detected" and suggests a caching plugin the
// site does not need.
//
// Installed by the image's entrypoint as wp-content/mu-plugins/. Only an
// answer NGINX served from its cache counts (HIT; STALE, UPDATING and
// REVALIDATED are kept copies too); MISS, EXPIRED and BYPASS do not.

defined('ABSPATH') || exit;

const INCEPTION_SERVED_FROM_CACHE = ['hit', 'stale', 'updating', 'revalidated'];

add_filter('site_status_page_cache_supported_cache_headers', static function ($headers) {
    $headers['x-cache-status'] = static fn ($value): bool => in_array(
        strtolower(trim((string) $value)),
        INCEPTION_SERVED_FROM_CACHE,
        true
    );
    return $headers;
});
