"""The large site's fixture (benchmarks/site-size/generate_site.py): what it
writes is what `make benchmark-size` reports it measured.

The rows' acceptance by MariaDB is checked where MariaDB runs: the benchmark
loads them into a real site and counts them back."""

from __future__ import annotations

import collections
import gzip
import io
import struct
import subprocess
import tarfile
import zlib
from xml.etree import ElementTree

import pytest

from tests.support.project import PROJECT, load_source

fixture = load_source("generate_site", PROJECT / "benchmarks" / "site-size" / "generate_site.py")
size_benchmark = load_source("benchmark_size", PROJECT / "scripts" / "benchmark-size")

SMALL = fixture.Size(
    posts=40, comments=300, users=5, attachments=8, categories=3, tags=10, autoloaded_options=12
)


def rows_by_table(size):
    tables = collections.defaultdict(list)
    for table, columns, values in fixture.site_rows(size, "site.test"):
        names = [name.strip() for name in columns.split(",")]
        assert len(names) == len(values), f"{table}: {len(values)} values for {len(names)} columns"
        tables[table].append(dict(zip(names, values, strict=True)))
    return tables


@pytest.fixture(scope="module")
def site():
    return rows_by_table(SMALL)


def test_the_counts_are_the_sizes(site):
    posts = [row for row in site["wp_posts"] if row["post_type"] == "post"]
    attachments = [row for row in site["wp_posts"] if row["post_type"] == "attachment"]
    assert len(posts) == SMALL.posts
    assert len(site["wp_comments"]) == SMALL.comments
    assert len(site["wp_users"]) == SMALL.users
    assert len(attachments) == SMALL.attachments
    assert len(site["wp_options"]) == SMALL.autoloaded_options
    assert {row["autoload"] for row in site["wp_options"]} == {"yes"}
    assert len(site["wp_terms"]) == SMALL.categories + SMALL.tags


def test_every_id_is_clear_of_a_new_sites(site):
    """A new site holds posts, comments, users and terms with small IDs."""
    for table, key in (("wp_posts", "ID"), ("wp_comments", "comment_ID"), ("wp_users", "ID"),
                       ("wp_terms", "term_id")):  # fmt: skip
        assert min(row[key] for row in site[table]) >= fixture.FIRST_ID


def test_the_counts_wordpress_keeps_match_the_rows(site):
    comments = collections.Counter(row["comment_post_ID"] for row in site["wp_comments"])
    for post in site["wp_posts"]:
        assert post["comment_count"] == comments[post["ID"]]
    assert comments[fixture.BUSY_POST_ID] == fixture.BUSY_POST_COMMENTS
    members = collections.Counter(row["term_taxonomy_id"] for row in site["wp_term_relationships"])
    for term in site["wp_term_taxonomy"]:
        assert term["count"] == members[term["term_taxonomy_id"]]
    categories = {
        row["term_taxonomy_id"] for row in site["wp_term_taxonomy"] if row["taxonomy"] == "category"
    }
    for post in (row for row in site["wp_posts"] if row["post_type"] == "post"):
        chosen = {
            r["term_taxonomy_id"] for r in site["wp_term_relationships"] if r["object_id"] == post["ID"]
        }
        assert chosen & categories, f"post {post['ID']} is in no category"


def test_a_reply_answers_a_comment_of_its_own_post(site):
    by_id = {row["comment_ID"]: row for row in site["wp_comments"]}
    replies = [row for row in site["wp_comments"] if row["comment_parent"]]
    assert replies
    for reply in replies:
        assert by_id[reply["comment_parent"]]["comment_post_ID"] == reply["comment_post_ID"]


def test_each_image_is_a_posts_featured_image_with_its_file(site):
    meta = collections.defaultdict(dict)
    for row in site["wp_postmeta"]:
        meta[row["post_id"]][row["meta_key"]] = row["meta_value"]
    for attachment in (row for row in site["wp_posts"] if row["post_type"] == "attachment"):
        assert meta[attachment["post_parent"]]["_thumbnail_id"] == str(attachment["ID"])
        file = meta[attachment["ID"]]["_wp_attached_file"]
        assert attachment["guid"] == f"https://site.test/wp-content/uploads/{file}"
        assert f'"file";s:{len(file)}:"{file}";' in meta[attachment["ID"]]["_wp_attachment_metadata"]


def test_the_search_terms_are_in_the_content():
    posts = [v for t, _, v in fixture.site_rows(fixture.Size(posts=1200, comments=200), "site.test")
             if t == "wp_posts"]  # fmt: skip
    content = " ".join(values[4] for values in posts)
    for term in (*fixture.SEARCH_TERMS, *fixture.RARE_TERMS):
        assert all(word in content for word in term.split()), term


def test_php_serialize_counts_bytes_as_php_does():
    assert fixture.php_serialize({"author": True}) == 'a:1:{s:6:"author";b:1;}'
    assert fixture.php_serialize({"w": 64, "é": "ü"}) == 'a:2:{s:1:"w";i:64;s:2:"é";s:2:"ü";}'
    with pytest.raises(TypeError):
        fixture.php_serialize(1.5)


def test_sql_strings_keep_every_character():
    assert fixture.sql_string("it's a \\ path\nand\0") == "'it\\'s a \\\\ path\\nand\\0'"


def test_the_images_are_real_distinct_pngs():
    first, second = fixture.png(64, 48, 1), fixture.png(64, 48, 2)
    assert first != second
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, offset = {}, 8
    while offset < len(first):
        (length,) = struct.unpack(">I", first[offset : offset + 4])
        kind, data = first[offset + 4 : offset + 8], first[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", first[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        chunks[kind] = data
        offset += 12 + length
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (64, 48)
    assert len(zlib.decompress(chunks[b"IDAT"])) == 48 * (1 + 3 * 64)
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]


def test_the_output_is_the_same_bytes_each_time_and_cached_by_key(tmp_path):
    first = fixture.generate(tmp_path / "a", SMALL)
    second = fixture.generate(tmp_path / "b", SMALL)
    for name in ("site.sql.gz", "uploads.tar"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert first.name == fixture.cache_key(SMALL) != fixture.cache_key(fixture.Size())
    sql = gzip.decompress((first / "site.sql.gz").read_bytes()).decode()
    assert sql.startswith("SET autocommit=0")
    assert sql.endswith("COMMIT;\n")
    assert sql.count("INSERT INTO wp_comments ") == 1  # 300 rows, one batch of up to 500
    with tarfile.open(first / "uploads.tar") as archive:
        members = archive.getmembers()
    assert [m.name for m in members[:2]] == ["2026", "2026/01"]
    assert len([m for m in members if m.isfile()]) == SMALL.attachments
    assert {(m.uid, m.gid) for m in members} == {(33, 33)}
    (first / "site.sql.gz").write_bytes(b"changed")
    assert fixture.generate(tmp_path / "a", SMALL) == first  # kept once complete
    assert (first / "site.sql.gz").read_bytes() == b"changed"


def test_the_inserts_are_batched():
    out = io.StringIO()
    fixture.write_sql(out, SMALL, batch=100)
    assert out.getvalue().count("INSERT INTO wp_comments ") == 3


def test_unloading_takes_out_every_table_the_fixture_writes(site):
    """The benchmark measures the small site again after the large one: the
    fixture must come out whole, by IDs a new site never reaches."""
    statements = fixture.unload_sql()
    for table in site:
        assert f"DELETE FROM {table} WHERE" in statements
    assert all(row["option_name"].startswith("fixture_plugin_option_") for row in site["wp_options"])
    assert "LIKE 'fixture\\_plugin\\_option\\_%'" in statements
    assert statements.startswith("START TRANSACTION;")
    assert statements.endswith("COMMIT;\n")


def _site_run(p50_ms: float) -> dict:
    case = {"p50_ms": p50_ms, "p99_ms": 2 * p50_ms, "requests_per_s": 1000 / p50_ms, "non_2xx": 0,
            "socket_errors": 0}  # fmt: skip
    facts = dict.fromkeys(("posts", "comments", "users", "attachments", "autoloaded_options",
                           "autoload_bytes", "data_bytes", "mariadb_memory_mib"), 1)  # fmt: skip
    return {
        "pages": {page: {"1": dict(case), "8": dict(case)} for page in size_benchmark.PAGES},
        "facts": facts, "backup": {"seconds": 1.0, "size": "1M"}, "redis_hit_rate": 0.5,
        "pages_checked": {"comments_shown": 1, "dashboard_rows": 20, "dashboard_own_rows": 1},
        "slow_queries": [],
        "list_rows_cpu": {"rows": 1, "bytes": 3000, "renders": 300, "render_ms": 0.4, "row_ms": 0.4,
                          "per_render": {"hooks": 540, "options_read": 70, "capability_checks": 9}},
    }  # fmt: skip


def test_the_size_benchmark_compares_with_the_mean_of_the_small_sites_two_runs():
    """Measured before and after the large site, the small site's drift cancels out."""
    result = {"small": _site_run(10.0), "small_again": _site_run(30.0), "large": _site_run(30.0),
              "load": {"generate_s": 0, "load_s": 1}, "rounds": 3, "round_s": 4}  # fmt: skip
    result["large"]["pages"]["post"]["1"]["p50_ms"] = 30.5
    table = size_benchmark.markdown(result)
    assert "| home page | 1 | 10.0 / 30.0 ms | 30.0 ms (33.3/s) | 60.0 ms | 1.50 x | met |" in table
    assert "| 1 | 10.0 / 30.0 ms | 30.5 ms (33.3/s) | 60.0 ms | 1.52 x | **missed** |" in table
    assert "Each case: the median of 3 rounds of 4 s" in table


def test_the_size_benchmark_measures_the_list_at_twenty_rows_and_at_the_small_sites_one():
    """Both lists are measured and reported, with the rows each site's list showed."""
    result = {"small": _site_run(10.0), "small_again": _site_run(10.0), "large": _site_run(20.0),
              "load": {"generate_s": 0, "load_s": 1}, "rounds": 3, "round_s": 4}  # fmt: skip
    result["small"]["pages_checked"]["dashboard_rows"] = 1
    result["large"]["pages"]["dashboard_own"]["8"]["p50_ms"] = 11.0
    table = size_benchmark.markdown(result)
    assert "| dashboard's post list (logged in) | 8 | 10.0 / 10.0 ms | 20.0 ms" in table
    assert "| the same list at one row: the administrator's own posts | 8 | 10.0 / 10.0 ms | 11.0 ms" in table
    assert "| rows shown: dashboard's post list (logged in) | 1 | 20 |" in table
    assert "| rows shown: the same list at one row: the administrator's own posts | 1 | 1 |" in table
    paths = size_benchmark.paths(large=True)
    assert paths["dashboard_own"] == ["/wp-admin/edit.php?post_type=post&author=1"]
    logged_in = size_benchmark.LOGGED_IN  # both lists are asked with the administrator's cookie
    assert logged_in == {"dashboard", "dashboard_own"}


def test_the_size_benchmark_reports_the_lists_rows_rendered_alone_on_each_site():
    """The CPU a row costs and what a render runs, beside wrk's measures."""
    result = {"small": _site_run(10.0), "small_again": _site_run(10.0), "large": _site_run(20.0),
              "load": {"generate_s": 0, "load_s": 1}, "rounds": 3, "round_s": 4}  # fmt: skip
    result["large"]["list_rows_cpu"].update(
        rows=20,
        render_ms=7.1,
        row_ms=0.355,
        per_render={"hooks": 10655, "options_read": 1300, "capability_checks": 180},
    )
    table = size_benchmark.markdown(result)
    assert (
        "| the dashboard's list, its rows rendered alone (php's command line, 300 renders, caches warm)"
        " | 0.4 ms for 1 row, 0.4 ms a row | 7.1 ms for 20 rows, 0.355 ms a row |"
    ) in table
    assert "| 540 / 70 / 9 | 10,655 / 1,300 / 180 |" in table


def test_the_rows_are_rendered_under_php_fpms_own_opcache_and_jit_settings():
    """php's command line gets the image's opcache lines, nothing else of its ini."""
    ini = size_benchmark.PHP_FPM_INI.read_text()
    flags = size_benchmark.php_fpm_opcache_flags(ini)
    settings = dict(flag.split("=", 1) for flag in flags[1::2])
    assert flags[::2] == ["-d"] * len(settings)
    assert settings["opcache.enable_cli"] == "1"
    assert settings["opcache.jit"] == "tracing"
    shipped = [line.split("=")[0].strip() for line in ini.splitlines() if line.startswith("opcache.")]
    assert sorted(settings) == sorted(["opcache.enable_cli", *shipped])
    assert not any(name.startswith(("apc.", "realpath")) for name in settings)


def test_the_list_rows_script_refuses_bad_arguments_before_loading_wordpress():
    """Run by this machine's php: a wrong call is a usage line and exit 2."""
    script = size_benchmark.LIST_ROWS_SCRIPT
    for arguments in ([], ["300"], ["0", "admin"], ["-5", "admin"], ["many", "admin"]):
        # As a file, and as the benchmark runs it: its text on php's input.
        for command, stdin in ((["php", str(script)], None), (["php", "--"], script.read_text())):
            ran = subprocess.run(
                [*command, *arguments], input=stdin, capture_output=True, text=True, check=False
            )
            assert (ran.returncode, ran.stdout) == (2, ""), (command, arguments)
            assert ran.stderr.startswith("usage: php list_rows.php <renders>")


def test_a_case_is_the_median_of_its_rounds_with_every_failure_counted():
    """One slow round moves the median of three no more than the middle one."""
    rounds = [
        {"connections": 8, "p50_ms": p50, "p99_ms": 2 * p50, "requests_per_s": 1000 / p50,
         "non_2xx": failures, "socket_errors": errors}
        for p50, failures, errors in ((40.0, 0, 1), (90.0, 2, 0), (50.0, 0, 0))
    ]  # fmt: skip
    case = size_benchmark.median_of_rounds(rounds)
    assert case["p50_ms"] == 50.0
    assert case["p99_ms"] == 100.0
    assert case["requests_per_s"] == 20.0
    assert (case["non_2xx"], case["socket_errors"], case["connections"]) == (2, 1, 8)
    assert case["rounds_p50_ms"] == [40.0, 90.0, 50.0]


def test_the_size_plot_draws_each_case_on_both_sites_and_its_ratio_against_the_goal():
    """A bar per case and site, a ratio per case, missed ones in another colour."""
    result = {"small": _site_run(10.0), "small_again": _site_run(10.0), "large": _site_run(12.0)}
    result["large"]["pages"]["dashboard"]["8"]["p50_ms"] = 17.0
    plot = size_benchmark.svg_plot(result)
    root = ElementTree.fromstring(plot)
    bars = root.findall("{http://www.w3.org/2000/svg}rect")[1:]  # after the background
    cases = len(size_benchmark.PAGES) * len(size_benchmark.CONNECTIONS)
    assert len(bars) == 3 * cases
    assert [bar.get("fill") for bar in bars].count("#f57900") == 1  # 1.70 x: missed
    assert "1.20 x" in plot
    assert "1.70 x" in plot
    assert "dashboard&#x27;s list, 8 conn." in plot
    assert len(root.findall("{http://www.w3.org/2000/svg}line")) == 1  # the goal
