"""A WordPress site of real size, as SQL and upload files, always the same.

`scripts/benchmark --site-size` (`make benchmark-size`) loads it into a fresh
site to measure the pages a visitor, a searcher and an editor ask for at that
size. The content is drawn from a seeded random generator and fixed dates, so
the same generator writes the same bytes: its output is cached under
`.cache/benchmark-size/<hash of this file and the counts>/`, never committed.

What it writes (WordPress 6.1's schema, table prefix `wp_`):
- `site.sql.gz`: 10,000 published posts in block markup, each in one or two
  of 50 categories and with up to five of 500 tags; 50,000 approved comments
  (one post, `BUSY_POST_ID`, has exactly 100); 200 authors; 2,000 image
  attachments, each the featured image of a post; 300 autoloaded options of
  the size plugins leave behind. Term counts and comment counts are written
  as WordPress keeps them.
- `uploads.tar`: the 2,000 images (small real PNG files) under
  `wp-content/uploads/`-relative paths, owned by www-data (uid 33).

Every row has an ID from `FIRST_ID` up, clear of what a new site holds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import struct
import tarfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

FIRST_ID = 1000
BUSY_POST_ID = FIRST_ID  # the post with exactly BUSY_POST_COMMENTS comments
BUSY_POST_COMMENTS = 100
UPLOADS_MONTH = "2026/01"
# Words of the posts and comments; searches draw their terms from SEARCH_TERMS,
# each of which the content holds, some often and some rarely.
# fmt: off
WORDS = (
    "garden", "harbour", "lantern", "meadow", "orchard", "pebble", "quarry", "ribbon", "saddle",
    "timber", "valley", "willow", "anchor", "beacon", "candle", "driftwood", "ember", "falcon",
    "glacier", "hollow", "island", "juniper", "kettle", "ledger", "marble", "nectar", "oyster",
    "parcel", "quiver", "raven", "spindle", "thistle", "umbrella", "velvet", "walnut", "yonder", "the",
    "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "are", "with", "as", "his",
    "they", "be", "at", "one", "have", "this", "from",
)
# fmt: on
SEARCH_TERMS = ("lantern", "glacier", "walnut", "harbour meadow", "spindle")
# Rare terms: one post in RARE_EVERY holds one of them.
RARE_TERMS = ("zeppelin", "quokka")
RARE_EVERY = 500


@dataclass(frozen=True)
class Size:
    posts: int = 10_000
    comments: int = 50_000
    users: int = 200
    attachments: int = 2_000
    categories: int = 50
    tags: int = 500
    autoloaded_options: int = 300


def cache_key(size: Size) -> str:
    """The hash of this generator's source and the counts: what names its cached output."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr(size).encode())
    return digest.hexdigest()[:16]


def php_serialize(value: object) -> str:
    """PHP's serialize() for the few types the fixture stores (lengths in UTF-8 bytes)."""
    if isinstance(value, bool):
        return f"b:{int(value)};"
    if isinstance(value, int):
        return f"i:{value};"
    if isinstance(value, str):
        return f's:{len(value.encode())}:"{value}";'
    if isinstance(value, dict):
        items = "".join(php_serialize(k) + php_serialize(v) for k, v in value.items())
        return f"a:{len(value)}:{{{items}}}"
    raise TypeError(f"cannot serialize {type(value).__name__}")


def sql_string(value: str) -> str:
    """A MariaDB string literal (the load runs with the server's default sql_mode)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\0", "\\0")
    return f"'{escaped}'"


def png(width: int, height: int, seed: int) -> bytes:
    """A small, real, distinct RGB PNG: a gradient whose colours follow the seed."""
    red, green, blue = seed * 37 % 256, seed * 91 % 256, seed * 53 % 256
    rows = b"".join(
        b"\0" + b"".join(bytes(((red + x) % 256, (green + 2 * y) % 256, blue)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# A row: its table, its columns, its values.
Row = tuple[str, str, tuple[object, ...]]


def _insert(out: io.TextIOBase, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    literals = (", ".join(sql_string(v) if isinstance(v, str) else str(v) for v in row) for row in rows)
    out.write(f"INSERT INTO {table} ({columns}) VALUES\n" + ",\n".join(f"({r})" for r in literals) + ";\n")


POST_COLUMNS = (
    "ID, post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status,"
    " comment_status, ping_status, post_password, post_name, to_ping, pinged, post_modified,"
    " post_modified_gmt, post_content_filtered, post_parent, guid, menu_order, post_type,"
    " post_mime_type, comment_count"
)
COMMENT_COLUMNS = (
    "comment_ID, comment_post_ID, comment_author, comment_author_email, comment_author_url,"
    " comment_author_IP, comment_date, comment_date_gmt, comment_content, comment_karma,"
    " comment_approved, comment_agent, comment_type, comment_parent, user_id"
)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraphs(rng: random.Random, count: int, rare: str | None) -> str:
    blocks = []
    for index in range(count):
        text = " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(3, 6)))
        if rare and index == 0:
            text = f"{text} A {rare} went by."
        blocks.append(f"<!-- wp:paragraph -->\n<p>{text}</p>\n<!-- /wp:paragraph -->")
    return "\n\n".join(blocks)


def _date(rng: random.Random) -> str:
    # Five years of posting before a fixed day: the output never depends on today.
    moment = datetime(2026, 1, 1) - timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
    return moment.strftime("%Y-%m-%d %H:%M:%S")


USER_COLUMNS = (
    "ID, user_login, user_pass, user_nicename, user_email, user_url, user_registered,"
    " user_activation_key, user_status, display_name"
)
META = "post_id, meta_key, meta_value"


def _users(users: list[int]) -> Iterator[Row]:
    password_hash = "$P$B" + "x" * 30  # matches no password: these authors only own posts
    for user in users:
        login = f"author{user}"
        yield "wp_users", USER_COLUMNS, (user, login, password_hash, login, f"{login}@example.invalid",
                 "", "2020-01-01 00:00:00", "", 0, f"Author {user}")  # fmt: skip
        for key, value in (
            ("nickname", login),
            ("first_name", "Author"),
            ("last_name", str(user)),
            ("rich_editing", "true"),
            ("wp_capabilities", php_serialize({"author": True})),
            ("wp_user_level", "2"),
        ):
            yield "wp_usermeta", "user_id, meta_key, meta_value", (user, key, value)


def _posts_and_terms(
    rng: random.Random, size: Size, users: list[int], domain: str
) -> Generator[Row, None, dict[int, int]]:
    """The posts, their categories and tags; returns each post's number of comments."""
    categories = range(FIRST_ID, FIRST_ID + size.categories)
    tags = range(categories.stop, categories.stop + size.tags)
    counts = dict.fromkeys([*categories, *tags], 0)  # term_taxonomy_id: posts
    posts = list(range(FIRST_ID, FIRST_ID + size.posts))
    comments = dict.fromkeys(posts, 0)
    comments[BUSY_POST_ID] = BUSY_POST_COMMENTS
    for _ in range(size.comments - BUSY_POST_COMMENTS):
        comments[rng.choice(posts[1:])] += 1
    for post in posts:
        date = _date(rng)
        rare = RARE_TERMS[post // RARE_EVERY % len(RARE_TERMS)] if post % RARE_EVERY == 0 else None
        title = _sentence(rng, rng.randint(3, 7)).rstrip(".")
        yield "wp_posts", POST_COLUMNS, (post, rng.choice(users), date, date,
                 _paragraphs(rng, rng.randint(3, 8), rare), title, "", "publish", "open", "open", "",
                 f"post-{post}", "", "", date, date, "", 0, f"https://{domain}/?p={post}", 0, "post", "",
                 comments[post])  # fmt: skip
        chosen = {rng.choice(categories) for _ in range(rng.randint(1, 2))}
        for term in sorted(chosen | set(rng.sample(tags, rng.randint(0, 5)))):
            yield "wp_term_relationships", "object_id, term_taxonomy_id, term_order", (post, term, 0)
            counts[term] += 1
    for term, count in counts.items():
        name = f"Topic {term - FIRST_ID}" if term in categories else f"tag {term - FIRST_ID}"
        yield "wp_terms", "term_id, name, slug, term_group", (term, name, name.lower().replace(" ", "-"), 0)
        yield "wp_term_taxonomy", "term_taxonomy_id, term_id, taxonomy, description, parent, count", (
            term, term, "category" if term in categories else "post_tag", "", 0, count)  # fmt: skip
    return comments


def _comments(rng: random.Random, comments: dict[int, int]) -> Iterator[Row]:
    comment = FIRST_ID
    for post, count in comments.items():
        for index in range(count):
            date = _date(rng)
            # One in four answers the comment before it: threads, as on a real site.
            parent = comment - 1 if index and index % 4 == 0 else 0
            yield "wp_comments", COMMENT_COLUMNS, (comment, post, f"Reader {comment % 997}",
                     f"reader{comment % 997}@example.invalid", "", "192.0.2.1", date, date,
                     _sentence(rng, rng.randint(6, 30)), 0, "1", "", "comment", parent, 0)  # fmt: skip
            comment += 1


def _attachments(rng: random.Random, size: Size, users: list[int], domain: str) -> Iterator[Row]:
    """Each image a post's featured image, spread evenly over the posts."""
    date = "2026-01-01 00:00:00"
    for index in range(size.attachments):
        attachment, parent = FIRST_ID + size.posts + index, FIRST_ID + index * size.posts // size.attachments
        name = f"fixture-{index:04d}"
        file = f"{UPLOADS_MONTH}/{name}.png"
        yield "wp_posts", POST_COLUMNS, (attachment, rng.choice(users), date, date, "",
                 f"Fixture image {index}", "", "inherit", "open", "closed", "", name, "", "", date, date, "",
                 parent, f"https://{domain}/wp-content/uploads/{file}", 0, "attachment", "image/png",
                 0)  # fmt: skip
        metadata = {"width": 64, "height": 48, "file": file, "filesize": len(png(64, 48, index)), "sizes": {}}
        yield "wp_postmeta", META, (attachment, "_wp_attached_file", file)
        yield "wp_postmeta", META, (attachment, "_wp_attachment_metadata", php_serialize(metadata))
        yield "wp_postmeta", META, (parent, "_thumbnail_id", str(attachment))


def _options(rng: random.Random, size: Size) -> Iterator[Row]:
    for index in range(size.autoloaded_options):
        # What plugins leave: flags, short strings, and now and then a settings array.
        if index % 10 == 0:
            value = php_serialize({f"setting_{n}": "x" * rng.randint(10, 200) for n in range(20)})
        else:
            value = "v" * rng.randint(1, 600)
        yield "wp_options", "option_name, option_value, autoload", (f"fixture_plugin_option_{index:03d}",
                 value, "yes")  # fmt: skip


def site_rows(size: Size, domain: str = "{{DOMAIN}}") -> Iterator[Row]:
    """Every row of the site, always the same. URLs carry `{{DOMAIN}}`
    unless a domain is given (replaced at load time)."""
    rng = random.Random(42)
    users = list(range(FIRST_ID, FIRST_ID + size.users))
    yield from _users(users)
    comments = yield from _posts_and_terms(rng, size, users, domain)
    yield from _comments(rng, comments)
    yield from _attachments(rng, size, users, domain)
    yield from _options(rng, size)


def write_sql(out: io.TextIOBase, size: Size, batch: int = 500) -> None:
    """The site's rows as multi-row INSERTs, in one transaction."""
    out.write("SET autocommit=0, unique_checks=0, foreign_key_checks=0;\n")
    pending: dict[tuple[str, str], list[tuple[object, ...]]] = {}
    for table, columns, values in site_rows(size):
        rows = pending.setdefault((table, columns), [])
        rows.append(values)
        if len(rows) >= batch:
            _insert(out, table, columns, pending.pop((table, columns)))
    for (table, columns), rows in pending.items():
        _insert(out, table, columns, rows)
    out.write("COMMIT;\n")


# Which column of each table the fixture's rows are found by: their IDs all
# start at FIRST_ID, the options by their names.
_OWNED_BY = {
    "wp_term_relationships": "object_id",
    "wp_term_taxonomy": "term_taxonomy_id",
    "wp_terms": "term_id",
    "wp_comments": "comment_ID",
    "wp_postmeta": "post_id",
    "wp_posts": "ID",
    "wp_usermeta": "user_id",
    "wp_users": "ID",
}


def unload_sql() -> str:
    """Statements that take every row of the fixture out again, and only those
    (a new site's rows all have smaller IDs), in one transaction."""
    statements = [f"DELETE FROM {table} WHERE {column} >= {FIRST_ID};" for table, column in _OWNED_BY.items()]
    statements.append("DELETE FROM wp_options WHERE option_name LIKE 'fixture\\_plugin\\_option\\_%';")
    return "START TRANSACTION;\n" + "\n".join(statements) + "\nCOMMIT;\n"


def write_uploads(out: io.BufferedIOBase, size: Size) -> None:
    """The attachments' files, a tar of paths relative to wp-content/uploads/."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        # The folders too, so that they are www-data's like the files.
        for folder in (UPLOADS_MONTH.split("/", maxsplit=1)[0], UPLOADS_MONTH):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.uid, info.gid, info.mtime = tarfile.DIRTYPE, 0o755, 33, 33, 1767225600
            archive.addfile(info)
        for index in range(size.attachments):
            data = png(64, 48, index)
            info = tarfile.TarInfo(f"{UPLOADS_MONTH}/fixture-{index:04d}.png")
            info.size, info.mode, info.uid, info.gid, info.mtime = len(data), 0o644, 33, 33, 1767225600
            archive.addfile(info, io.BytesIO(data))


def generate(cache: Path, size: Size | None = None) -> Path:
    """The fixture's folder under cache, written once per cache key."""
    size = size or Size()
    folder = cache / cache_key(size)
    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same generator writes the same bytes.
    with (
        (folder / "site.sql.gz").open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as compressed,
        io.TextIOWrapper(compressed, encoding="utf-8") as sql,
    ):
        write_sql(sql, size)
    with (folder / "uploads.tar").open("wb") as uploads:
        write_uploads(uploads, size)
    (folder / "complete").write_text(repr(size) + "\n")
    return folder
