"""A CI-sized schemathesis run against a live server: no 5xx, every answer as the document says.

bench/fuzz.py is the full run (the demo data, gunicorn, three users, many examples); this one
serves the test world in-process and fuzzes as a producer with a few examples per operation.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import live_server_fixture  # noqa: F401  (the live_server fixture)
from tests.test_api_orders import token_for
from tests.test_orders import NO_CSRF, make_order

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"

pytestmark = [
    pytest.mark.parametrize("app", NO_CSRF, indirect=True),
    pytest.mark.skipif(bool(os.environ.get("SECGO_TEST_DATABASE_URL")),
                       reason="SQLite only: bench/fuzz.py --db postgresql covers PostgreSQL"),
    pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed"),
]


def test_fuzzing_the_api_finds_no_server_error_and_no_answer_off_the_document(
        app, world, client, live_server, tmp_path):
    # Real ids in every path, so that the fuzzed bodies reach the rules behind the 404s.
    ref = make_order(app, world)
    headers = token_for(app, "producer")
    customer = token_for(app, "customer")
    status = client.get(f"/api/v1/orders/{ref}", headers=headers).json["allowed_statuses"][0]
    update = client.post(f"/api/v1/orders/{ref}/updates", json={"status": status}, headers=headers).json
    issue = client.post(f"/api/v1/orders/{ref}/issues", headers=customer,
                        json={"category": "quality", "severity": "low", "title": "Wet sacks"}).json
    link = client.post(f"/api/v1/orders/{ref}/links", json={"contact_name": "Dara"}, headers=headers).json
    (tmp_path / "schemathesis.toml").write_text(
        f'[parameters]\nreference = "{ref}"\nupdate_id = {update["id"]}\nissue_id = {issue["id"]}\n'
        f'link_id = {link["id"]}\n')
    for who in ("producer", "customer"):  # each side reaches its own writes; ~22 s each
        token = headers if who == "producer" else customer
        cmd = [str(SCHEMATHESIS), "run", f"{live_server.url}/api/v1/openapi.json", "--checks", CHECKS,
               "-H", f"Authorization: {token['Authorization']}", "--max-examples", "3", "--seed", "8",
               "--workers", "1", "--generation-database", "none", "--request-timeout", "20",
               "--max-time", "22", "--no-color", "--phases", "examples,coverage,fuzzing",
               "--generation-with-security-parameters", "false"]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
        assert proc.returncode == 0, f"as {who}:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]
