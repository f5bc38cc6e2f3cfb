"""``--hostile`` modes, and the Express 404 for a base URL without ``/v1``."""

from __future__ import annotations

import http.client
from typing import Any

import pytest
import requests

from dexbulk.sandbox import Sandbox
from dexbulk.sandbox.hostile import ESCAPES

from .conftest import Api, MakeApi, MakeSandbox

EVIL = ("\x1b]0;PWNED\x07", "\x1b]52;c;", "\x1b[2J", "\x1b[31m")


def _hostile(make_sandbox: MakeSandbox, make_api: MakeApi, *modes: str) -> Api:
    return make_api(make_sandbox(hostile=frozenset(modes)))


def _put(api: Api, **data: Any) -> requests.Response:
    contact_id = api.sandbox.store.all_ids()[0]
    return api.put("/contacts/", json=[{"contactId": contact_id, "data": data}])


def test_escapes_in_every_contact_name_read(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = _hostile(make_sandbox, make_api, "escapes")
    store = api.sandbox.store
    contact = store.rows()[0][1]
    first_id = contact["id"]
    reads = [
        api.data("GET", "/contacts")["items"][0],
        api.data("GET", f"/contacts/{first_id}"),
        api.data("POST", "/contacts/filter", json={"where": {"in": [first_id]}})["items"][0],
        api.data("GET", "/search/contacts", params={"searchQuery": contact["full_name"]})["items"][
            0
        ],
    ]
    for read in reads:
        assert read["full_name"] == ESCAPES + contact["full_name"]
        for sequence in EVIL:
            assert sequence in read["full_name"]
    assert store.get(first_id) == contact  # only answers carry them, not the book


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (lambda api: _put(api, birthday="1990-13-01"), 400),
        (lambda api: api.get("/contacts/00000000-0000-4000-8000-000000000000"), 404),
        (lambda api: api.get("/contacts/count", headers={"Authorization": "Bearer x"}), 401),
    ],
)
def test_escapes_in_every_error_message(
    make_sandbox: MakeSandbox, make_api: MakeApi, send: Any, status: int
) -> None:
    api = _hostile(make_sandbox, make_api, "escapes")
    response = send(api)
    assert response.status_code == status
    assert response.json()["error"] is True
    assert response.json()["message"].startswith(ESCAPES)
    assert len(response.json()["message"]) > len(ESCAPES)


def test_escapes_in_the_500_message(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = _hostile(make_sandbox, make_api, "escapes", "500")
    response = api.get("/contacts/count")
    assert response.status_code == 500
    assert response.json()["message"].startswith(ESCAPES + "Internal server error")


def test_html_answers_every_request_with_a_200_page(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = _hostile(make_sandbox, make_api, "html")
    before, tags = api.sandbox.store.rows(), api.sandbox.store.tags()
    for response in (
        api.get("/contacts/count"),
        _put(api, company="Never Applied"),
        api.get("/contacts/count", headers={"Authorization": None}),
        api.post("/tags/", json={"tag": {"name": "x"}}),
    ):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.startswith("<!DOCTYPE html>")
        assert "</html>" in response.text
        with pytest.raises(requests.JSONDecodeError):
            response.json()
    assert (api.sandbox.store.rows(), api.sandbox.store.tags()) == (before, tags)
    stats = api.sandbox.stats()
    assert (stats["by_status"], stats["contacts_updated"], stats["put_items"]) == ({"200": 4}, 0, 1)


def test_500_answers_every_request_and_applies_nothing(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = _hostile(make_sandbox, make_api, "500")
    before = api.sandbox.store.rows()
    for response in (
        api.get("/contacts/count"),
        _put(api, company="Never Applied"),
        api.get("/contacts/count", headers={"Authorization": "Bearer wrong"}),
    ):
        assert response.status_code == 500
        assert response.json() == {
            "error": True,
            "message": "Internal server error (dexbulk sandbox --hostile 500)",
        }
    assert api.sandbox.store.rows() == before


def test_echo_key_repeats_the_authorization_header(
    make_sandbox: MakeSandbox, make_api: MakeApi
) -> None:
    api = _hostile(make_sandbox, make_api, "echo-key")
    key = api.sandbox.options.api_key
    bad = _put(api, birthday="1990-13-01")
    assert bad.status_code == 400
    assert bad.json()["message"].endswith(f" (received Authorization: Bearer {key})")
    wrong = api.get("/contacts/count", headers={"Authorization": "Bearer dex_wrong_key_123"})
    assert wrong.status_code == 401
    assert "Bearer dex_wrong_key_123" in wrong.json()["message"]
    none = api.get("/contacts/count", headers={"Authorization": None})
    assert none.json()["message"].endswith("(received Authorization: (none))")
    assert key not in api.get("/contacts/count").text  # successes are left alone


def test_modes_combine(make_sandbox: MakeSandbox, make_api: MakeApi) -> None:
    api = _hostile(make_sandbox, make_api, "500", "echo-key", "escapes")
    message = api.get("/contacts/count").json()["message"]
    assert message.startswith(ESCAPES + "Internal server error")
    assert message.endswith(f"Bearer {api.sandbox.options.api_key})")


@pytest.mark.parametrize("method", ["PUT", "GET", "POST"])
def test_base_url_without_v1_is_express_404_html(sandbox: Sandbox, method: str) -> None:
    with requests.Session() as session:
        response = session.request(
            method,
            sandbox.url.removesuffix("/v1") + "/contacts/",
            json=[],
            headers={"Authorization": f"Bearer {sandbox.options.api_key}"},
            timeout=5,
        )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert f"<pre>Cannot {method} /contacts/</pre>" in response.text
    assert response.text.startswith("<!DOCTYPE html>")
    assert sandbox.stats()["by_route"] == {"other": 1}


def test_express_404_escapes_the_path(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    try:  # http.client sends the path as given; requests would percent-encode it
        conn.request("GET", "/<b>x", headers={"User-Agent": "t"})
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    assert "<pre>Cannot GET /&lt;b&gt;x</pre>" in text
