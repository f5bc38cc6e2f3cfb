"""The dry-run plan as a document: what ``--dry-run`` shows and ``--dry-run --json`` prints.

Kept apart from :mod:`dexbulk.engine`, which sends: this needs no key and sends nothing, so a
plan can be checked anywhere. :mod:`dexbulk.cli.dryrun` draws it for people.
"""

from __future__ import annotations

from dexbulk.engine import SendOptions
from dexbulk.plan import MEMBERSHIP, Plan

SAMPLE_SIZE = 5
"""How many contacts a plan shows as examples (``sample``)."""


def describe(
    plan: Plan, options: SendOptions, api_url: str, *, complete: bool = True
) -> dict[str, object]:
    """The dry-run plan as a document: counts, the change, samples, and the first request.

    ``fields`` counts the contacts each field is sent for; ``data`` is the shared data object
    (``null`` when each contact has its own, as from a CSV). With ``complete`` the document
    also lists every contact (``contactIds``) and, for per-contact plans, every update
    (``updates``): the whole plan, which a script can check before it is sent. The key is shown
    redacted; this needs no key at all, so a plan can be checked anywhere.
    """
    body = plan.first_body(options.batch_size)
    fields: dict[str, int] = {}
    if plan.patch is not None:
        fields = dict.fromkeys(plan.patch, plan.total) if plan.total else {}
    else:
        for update in plan.updates:
            for name in update.data:
                fields[name] = fields.get(name, 0) + 1
    document: dict[str, object] = {
        "dryRun": True,
        "command": plan.command,
        "sources": list(plan.sources),
        "selected": plan.total,
        "duplicates": plan.duplicates,
        "batches": plan.batch_count(options.batch_size),
        "batchSize": options.batch_size,
        "concurrency": options.concurrency,
        "apiUrl": api_url,
        "data": dict(plan.patch) if plan.patch is not None else None,
        "fields": fields,
        "sample": [u.to_api() for u in plan.updates[:SAMPLE_SIZE]],
        "firstRequest": {
            "method": "PUT",
            "url": f"{api_url}/contacts/",
            "headers": {
                "Authorization": "Bearer <redacted>",
                "Content-Type": "application/json",
            },
            "body": body,
        }
        if body
        else None,
    }
    if plan.channel == MEMBERSHIP:
        from dexbulk.membership import first_request

        document["channel"] = plan.channel
        document["labels"] = dict(plan.labels)
        request = first_request(plan.first_body_updates(options.batch_size), api_url)
        if request is not None:
            auth = {"Authorization": "Bearer <redacted>", "Content-Type": "application/json"}
            document["firstRequest"] = {**request, "headers": auth}
    if complete:
        document["contactIds"] = [u.contact_id for u in plan.updates]
        document["updates"] = [u.to_api() for u in plan.updates] if plan.patch is None else None
    return document
