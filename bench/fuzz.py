"""Fuzz the JSON API with schemathesis, as a logged-in user: no 5xx, answers match the schema.

Serves the demo data with gunicorn on 127.0.0.1, gives each user an API token (the same
bearer token an integration creates in settings), and runs `schemathesis run` against
/api/v1/openapi.json with the checks not_a_server_error, response_schema_conformance,
status_code_conformance and content_type_conformance.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/fuzz.py [--db sqlite|postgresql] [--max-examples 50] [--users demo-producer,demo-customer]
"""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def make_token(url, instance, username) -> str:
    """A fresh API token for a user (stored hashed, as settings does)."""
    app = common.make_app(url, instance)
    from secgo.extensions import db
    from secgo.models import ApiToken, User, hash_token, new_token

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        token = new_token()
        db.session.add(ApiToken(user=user, name="fuzz", token_hash=hash_token(token), prefix=token[:8]))
        db.session.commit()
        db.engine.dispose()
    return token


def run(args) -> dict:
    """Serve, fuzz as each user, and return a summary."""
    schemathesis = str(Path(sys.executable).parent / "schemathesis")
    if not Path(schemathesis).exists():
        return {"ok": False, "skipped": "schemathesis is not installed: pip install -e '.[bench]'"}
    out = {"runs": []}
    with tempfile.TemporaryDirectory(prefix="secgo-fuzz-") as tmp, common.database(args.db, Path(tmp)) as url:
        tmp = Path(tmp)
        common.prepare_demo(url, tmp / "instance")
        tokens = {u: make_token(url, tmp / "instance", u) for u in args.users.split(",")}
        env = common.server_env(url, tmp / "instance", SECGO_RATELIMIT_ENABLED="0")
        with common.Server(env, workers=2) as server:
            for user, token in tokens.items():
                cmd = [schemathesis, "run", f"{server.base}/api/v1/openapi.json", "--checks", CHECKS,
                       "-H", f"Authorization: Bearer {token}", "--max-examples", str(args.max_examples),
                       "--seed", str(args.seed), "--workers", "1", "--generation-database", "none",
                       "--request-timeout", "30", "--max-time", str(args.max_time), "--no-color",
                       "--phases", "examples,coverage,fuzzing",
                       "--generation-with-security-parameters", "false"]
                print("$", " ".join(c if "Bearer" not in c else "Authorization: Bearer ***" for c in cmd[1:]),
                      flush=True)
                proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=args.max_time + 300)
                print(proc.stdout[-8000:], proc.stderr[-3000:], flush=True)
                failing = re.findall(r"^_+ ([A-Z]+ /\S*) _+$", proc.stdout, re.M)
                totals = [line.strip() for line in proc.stdout.splitlines()
                          if re.search(r"(ST\d{3} .*: \d+|generated, |=+ .* in [\d.]+s =+)", line)]
                out["runs"].append({"user": user, "returncode": proc.returncode, "failing": failing,
                                    "summary": totals, "tail": proc.stdout[-4000:]})
            out["server_errors"] = server.errors_in_log()
            out["exceptions"] = server.exceptions_in_log()
    out["ok"] = all(r["returncode"] == 0 for r in out["runs"]) and not out["server_errors"]
    return out


def main(argv=None):
    """Run the fuzzing; write bench/results/fuzz.* (fuzz-postgresql.* for PostgreSQL); exit 1
    on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--users", default="demo-producer,demo-customer,demo-coordinator")
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--max-time", type=int, default=300, help="seconds per user, at most")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    result = run(args)
    lines = [f"API fuzzing with schemathesis ({common.machine()}; {args.db}; checks {CHECKS}; "
             f"max {args.max_examples} examples per operation)", ""]
    if result.get("skipped"):
        lines.append(f"- skipped: {result['skipped']}")
    for r in result.get("runs", []):
        lines += [f"### as {r['user']}: {'ok' if r['returncode'] == 0 else '**FAILED**'}", "", "```",
                  *r["summary"], "```", ""]
        lines += [f"- failing: `{op}`" for op in r["failing"]]
        lines.append("")
    if result.get("server_errors"):
        lines.append(f"The server logged {len(result['server_errors'])} tracebacks:")
        lines += [f"- `{e}`" for e in result.get("exceptions", [])]
    text = "\n".join(lines)
    print(text)
    common.write_results("fuzz" if args.db == "sqlite" else f"fuzz-{args.db}", result, text)
    print("FUZZ OK" if result["ok"] else "FUZZ FAILED")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
