"""Rebuild the single initial migration from the models (before the first release only).

    .venv/bin/python scripts/regenerate_migration.py

Autogenerate on SQLite leaves out what the models create only on PostgreSQL (the trigram
search index: Index(...).ddl_if(dialect="postgresql"), see secgo/migrations/env.py), so this adds
it to the new migration, with the extension it needs.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "secgo" / "migrations" / "versions"
PG_UPGRADE = '''
    if op.get_bind().dialect.name == "postgresql":  # scripts/regenerate_migration.py
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index('ix_orders_search_trgm', 'orders', ['search_text'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})'''
PG_DOWNGRADE = '''    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_orders_search_trgm', table_name='orders')
'''
ORDERS = "    with op.batch_alter_table('orders', schema=None) as batch_op:\n"


def main() -> int:
    for old in VERSIONS.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "SECGO_INSTANCE_PATH": instance, "SECGO_DATABASE_URL": ""}
        env.pop("SECGO_DATABASE_URL")
        subprocess.run([sys.executable, "-m", "flask", "--app", "secgo", "db", "migrate", "-m",
                        "initial schema"], cwd=ROOT, env=env, check=True)
    (path,) = VERSIONS.glob("*.py")
    text = path.read_text()
    start = text.index(ORDERS)
    end = text.index("\n\n", start)
    text = text[:end] + PG_UPGRADE + text[end:]
    down = text.index(ORDERS, text.index("def downgrade"))
    text = text[:down] + PG_DOWNGRADE + text[down:]
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
