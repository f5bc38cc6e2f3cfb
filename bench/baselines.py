"""The baselines dexbulk is judged against: what a person would write in ten lines.

* ``sequential_batches``: one ``requests.Session`` (keep-alive), the same batches dexbulk sends,
  one after the other. Same server work, no concurrency: the gap to dexbulk is what the worker
  threads buy.
* ``per_contact``: one request per contact, the naive loop. At 50 ms a request, 10,000 contacts
  take over eight minutes, so it is timed on a sample and extrapolated linearly (each request
  costs the same, so the extrapolation is fair; the table says it is one).

Both run in the bench's own process, so their Python start-up is not counted: a favour to the
baselines. Run alone against a sandbox you started::

    dexbulk sandbox --port 8765 --latency 50 --contacts 10000 &
    python bench/baselines.py --url http://127.0.0.1:8765/v1 --ids ids.txt
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import requests
from common import API_KEY

DATA = {"company": "Baseline Inc"}
# The sandbox (like Cloudflare in front of Dex) refuses requests without a User-Agent.
HEADERS = {"Authorization": f"Bearer {API_KEY}", "User-Agent": "dexbulk-bench-baseline/1"}


def _put(session: requests.Session, url: str, ids: Sequence[str]) -> None:
    body = [{"contactId": cid, "data": DATA} for cid in ids]
    answer = session.put(f"{url}/contacts/", json=body, headers=HEADERS, timeout=30)
    answer.raise_for_status()


def sequential_batches(url: str, ids: Sequence[str], batch_size: int = 100) -> float:
    """Seconds to send every ID in batches of ``batch_size``, one request at a time."""
    with requests.Session() as session:
        started = time.perf_counter()
        for start in range(0, len(ids), batch_size):
            _put(session, url, ids[start : start + batch_size])
        return time.perf_counter() - started


def per_contact(url: str, ids: Sequence[str]) -> float:
    """Seconds to send each ID in a request of its own, one at a time."""
    with requests.Session() as session:
        started = time.perf_counter()
        for cid in ids:
            _put(session, url, [cid])
        return time.perf_counter() - started


def main() -> None:
    """Time both loops against a running sandbox and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="API base URL, e.g. http://127.0.0.1:8765/v1")
    parser.add_argument("--ids", type=Path, required=True, help="file of contact IDs, one a line")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--sample", type=int, default=300, help="contacts for the per-contact loop")
    args = parser.parse_args()
    ids = args.ids.read_text(encoding="utf-8").split()
    seconds = sequential_batches(args.url, ids, args.batch_size)
    print(f"sequential batches of {args.batch_size}: {len(ids)} contacts in {seconds:.2f} s")
    sample = ids[: args.sample]
    seconds = per_contact(args.url, sample)
    whole = seconds * len(ids) / len(sample)
    print(f"per-contact: {len(sample)} in {seconds:.2f} s; {len(ids)} extrapolated: {whole:.0f} s")


if __name__ == "__main__":
    main()
