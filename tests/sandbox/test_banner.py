"""What ``dexbulk sandbox`` prints first, and what the docs say it prints: the URL on the first
line, the key on the second."""

from __future__ import annotations

from pathlib import Path

from dexbulk.sandbox.options import DEFAULT_API_KEY, FLAGS
from dexbulk.sandbox.server import banner

REPO = Path(__file__).resolve().parents[2]


def test_the_url_comes_first_and_the_key_second() -> None:
    first, second = banner("http://127.0.0.1:8765/v1", "dex_k").splitlines()
    assert first == "Dex sandbox listening on http://127.0.0.1:8765/v1"
    assert second.startswith("API key: dex_k  ")


def test_the_docs_show_and_say_what_a_started_sandbox_prints() -> None:
    doc = (REPO / "docs" / "sandbox.md").read_text(encoding="utf-8")
    shown = doc.split("$ dexbulk sandbox --port 8765\n", 1)[1].split("```", 1)[0]
    assert shown == banner("http://127.0.0.1:8765/v1", DEFAULT_API_KEY)
    said = " ".join(doc.split())
    assert "The first line is the URL" in said
    assert "the second is the API key" in said
    help_of = {flag.names[0]: flag.help for flag in FLAGS}
    assert "URL on the first line" in help_of["--port"]
    assert "second line" in help_of["--key"]
