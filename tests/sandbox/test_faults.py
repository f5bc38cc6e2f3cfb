"""Auth, the Cloudflare User-Agent check, and every injected fault."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from dexbulk.sandbox import Sandbox, SandboxOptions
from dexbulk.sandbox.faults import FixedWindow, TokenBucket, rate_limiter

from .conftest import Api, MakeApi, MakeSandbox


def _batch(sandbox: Sandbox, size: int) -> list[dict[str, object]]:
    return [{"contactId": i, "data": {"starred": True}} for i in sandbox.store.all_ids()[:size]]


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", "dex_sandbox_0123456789abcdef", "Basic x"]
)
def test_missing_or_wrong_key_is_401(api: Api, header: str | None) -> None:
    response = api.get("/contacts/count", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"error": True, "message": "invalid API key"}


def test_custom_key(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = make_api(make_sandbox(api_key="dex_custom"))
    assert api.get("/contacts/count").status_code == 200
    default_key = {"Authorization": "Bearer dex_sandbox_0123456789abcdef"}
    assert api.get("/contacts/count", headers=default_key).status_code == 401


def test_no_user_agent_is_403_html(sandbox: Sandbox) -> None:
    # http.client sends no User-Agent unless told to (requests/urllib3 always add one).
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    try:
        conn.request("GET", "/v1/contacts/count", headers={"Authorization": "Bearer x"})
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    assert response.status == 403
    assert response.getheader("Content-Type", "").startswith("text/html")
    assert "blocked" in body
    assert sandbox.stats()["by_status"] == {"403": 1}


def test_fail_rate_one_gives_5xx_and_applies_nothing(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    sandbox = make_sandbox(fail_rate=1.0)
    api = make_api(sandbox)
    before = [sandbox.store.get(i) for i in sandbox.store.all_ids()[:2]]
    statuses = {api.put("/contacts/", json=_batch(sandbox, 2)).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503}
    assert len(statuses) > 1  # the status varies, as gateway errors do
    assert [sandbox.store.get(i) for i in sandbox.store.all_ids()[:2]] == before
    assert sandbox.stats()["contacts_updated"] == 0
    # Auth is checked before the injected failure, so a bad key is always a clean 401.
    assert api.get("/contacts/count", headers={"Authorization": "Bearer bad"}).status_code == 401


def test_drop_rate_one_closes_without_answer(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    sandbox = make_sandbox(drop_rate=1.0)
    api = make_api(sandbox)
    target = sandbox.store.all_ids()[0]
    before = sandbox.store.get(target)
    with pytest.raises(requests.ConnectionError):
        api.put("/contacts/", json=[{"contactId": target, "data": {"company": "Dropped"}}])
    assert sandbox.store.get(target) == before
    stats = sandbox.stats()
    assert (stats["dropped"], stats["requests"], stats["by_status"]) == (1, 1, {})


def test_max_batch_413(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    sandbox = make_sandbox(max_batch=5)
    api = make_api(sandbox)
    response = api.put("/contacts/", json=_batch(sandbox, 6))
    assert response.status_code == 413
    assert response.json()["error"] is True
    assert "6 > 5" in response.json()["message"]
    assert api.put("/contacts/", json=_batch(sandbox, 5)).json()["data"] == {"count": 5}


def test_rate_limit_429_with_retry_after(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    sandbox = make_sandbox(rate_limit=2.0)  # burst of 2, then one token every 0.5 s
    api = make_api(sandbox)
    statuses = [api.get("/contacts/count").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]
    response = api.get("/contacts/count")
    assert response.status_code == 429
    assert response.json()["error"] is True
    assert response.headers["Retry-After"] == "1"


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    bucket = TokenBucket(0.5, clock=lambda: now[0])  # burst max(1, 0.5) = 1
    assert bucket.take() is None
    assert bucket.take() == 2  # one token takes two seconds at 0.5/s
    now[0] = 1.0
    assert bucket.take() == 1
    now[0] = 2.0
    assert bucket.take() is None


def test_reject_ids_400_names_the_id_and_applies_nothing(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    probe = make_sandbox()
    bad = probe.store.all_ids()[1]
    probe.stop()
    sandbox = make_sandbox(reject_ids=frozenset({bad.upper()}))  # IDs match in any case
    api = make_api(sandbox)
    before = sandbox.store.get(sandbox.store.all_ids()[0])
    response = api.put("/contacts/", json=_batch(sandbox, 3))
    assert response.status_code == 400
    assert response.json() == {"error": True, "message": f"contact {bad} cannot be updated"}
    assert sandbox.store.get(sandbox.store.all_ids()[0]) == before
    assert api.put("/contacts/", json=_batch(sandbox, 1)).status_code == 200


def test_latency_is_applied(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = make_api(make_sandbox(latency_ms=100))
    started = time.perf_counter()
    assert api.get("/contacts/count").status_code == 200
    assert time.perf_counter() - started >= 0.08  # 100 ms - 20% jitter


def test_fixed_window_counts_per_clock_second() -> None:
    now = [10.25]
    window = FixedWindow(2.9, clock=lambda: now[0])  # N per window, rounded down: 2
    assert [window.take(), window.take(), window.take()] == [None, None, 1]
    now[0] = 10.999
    assert window.take() == 1  # still the same window: wait for its end, at least 1 s
    now[0] = 11.0
    assert [window.take(), window.take(), window.take()] == [None, None, 1]
    now[0] = 13.5  # windows do not carry anything over
    assert window.take() is None


@pytest.mark.parametrize(("limiter", "kind"), [("bucket", TokenBucket), ("window", FixedWindow)])
def test_rate_limiter_flag_picks_the_limiter(
    make_sandbox: MakeSandbox, limiter: str, kind: type
) -> None:
    options = make_sandbox(rate_limit=3.0, rate_limiter=limiter).options
    assert isinstance(rate_limiter(options), kind)
    assert rate_limiter(SandboxOptions(rate_limiter=limiter)) is None  # no --rate-limit


def test_window_rate_limit_429_until_the_next_second(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = make_api(make_sandbox(rate_limit=3.0, rate_limiter="window"))
    api.get("/contacts/count")  # warm the connection up, then start at the top of a second
    time.sleep(1.02 - time.time() % 1.0)
    responses = [api.get("/contacts/count") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[3].headers["Retry-After"] == "1"
    assert responses[3].json() == {"error": True, "message": "Too many requests"}
    time.sleep(1.02 - time.time() % 1.0)
    assert api.get("/contacts/count").status_code == 200
