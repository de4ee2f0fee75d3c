#!/usr/bin/env bash
# Before the first release the schema has one migration, regenerated from the models.
# After a release, add migrations with `python -c "from vigie.store.migrate import revision; ..."`.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f src/vigie/store/migrations/versions/*_initial_schema.py
tmp=$(mktemp -d)
.venv/bin/python -c "from vigie.store.migrate import revision; revision('sqlite:///$tmp/gen.db', 'initial schema')"
.venv/bin/ruff format -q src/vigie/store/migrations/versions
.venv/bin/ruff check -q --fix src/vigie/store/migrations/versions || true
rm -rf "$tmp"
