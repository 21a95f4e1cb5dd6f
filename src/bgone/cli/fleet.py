"""`bgone fleet`: the server processes seen by the database, the silent ones marked gone."""

from __future__ import annotations

from bgone.cli.common import console, run_in_database
from bgone.domain import fleet
from bgone.settings import Settings


def fleet_command() -> None:
    """Replicas from their heartbeats (every 10 s); one silent for 30 s is shown as gone."""
    replicas = run_in_database(Settings(), fleet.list_replicas)
    if not replicas:
        console.print("no replicas have reported")
    for replica in replicas:
        beat = replica.beat
        pools = " ".join(f"{name}={used}" for name, used in sorted(beat.pool_use.items()))
        state = "GONE" if replica.gone else "up"
        console.print(
            f"{beat.replica_id} {state} version {beat.version} on {beat.hostname}, "
            f"started {beat.started_at:%Y-%m-%d %H:%M:%S}Z, "
            f"last seen {replica.last_seen:%Y-%m-%d %H:%M:%S}Z, queue {beat.queue_depth}, "
            f"pools {pools or '-'}, models {' '.join(beat.models) or '-'}"
        )
