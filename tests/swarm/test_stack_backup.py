"""The cluster's backup (the backup service of the stack, on one of the
database's nodes): a run now, as cron runs it on its schedule, leaves a whole
backup of the database (one consistent transaction, through the network) and
of the replicated files in /home/<login>/data/backups, a replicated volume of
its own: every node reads it there, and every node's brick holds it, so the
backup outlives the node that made it. Runs once."""

from __future__ import annotations

import time
import uuid

from tests.support.site import write_post
from tests.swarm.nodes import inventory_value, node_running, task_container
from tests.swarm.test_cluster import record
from tests.swarm.test_stack import converged_services


def test_a_backup_holds_the_database_and_the_files(managers):
    converged_services(managers[0])
    # The backups run on one of the database's nodes (each has a Galera member).
    node = node_running(managers, "backup")
    mark = uuid.uuid4().hex[:8]
    write_post(node, f"Kept by the backup {mark}", "backup", container=task_container(node, "wordpress"))
    backup = task_container(node, "backup")

    started = time.monotonic()
    ran = node.run("docker exec %s /usr/local/bin/backup", backup)
    record("backup_seconds", time.monotonic() - started)
    assert ran.rc == 0, ran.stderr
    folder_name = ran.stdout.split("backup: /backups/", 1)[1].split()[0]
    login = inventory_value(node, "inception_login")
    on_node = f"/home/{login}/data/backups/{folder_name}"
    dump = node.run("zcat %s/database.sql.gz", on_node)
    assert dump.rc == 0
    assert f"Kept by the backup {mark}" in dump.stdout
    files = node.check_output("tar -tzf %s/wordpress-files.tar.gz", on_node).split()
    assert "./wp-includes/version.php" in files
    assert "./wp-salts.php" in files
    assert node.file(f"{on_node}/database.sql.gz").mode == 0o600

    # On every node, through its mount and in its own brick, the same bytes.
    digests = set()
    for other in managers:
        for folder in (f"/home/{login}/data/backups", f"/home/{login}/data/gluster/backups"):
            summed = other.run(
                "cd %s/%s && sha256sum database.sql.gz wordpress-files.tar.gz", folder, folder_name
            )
            assert summed.rc == 0, (other.backend.host, folder, summed.stderr)
            digests.add(summed.stdout)
    assert len(digests) == 1, digests
