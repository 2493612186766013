from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from havens.cli.main import app
from havens.database import make_engine


def test_demo_verifies_and_tampering_fails_naming_the_record(cli_env: str) -> None:
    runner = CliRunner()
    loaded = runner.invoke(app, ["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert "demo-coordinator-2026" in loaded.output
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output

    engine = make_engine(cli_env)
    with engine.begin() as connection:
        connection.execute(text(
            "UPDATE audit_log SET actor_label = 'someone else' WHERE seq = 5"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "record 5" in broken.output

    tail = runner.invoke(app, ["audit", "tail", "-n", "3"])
    assert tail.exit_code == 0 and "demo.load" in tail.output


def test_demo_refuses_a_database_with_real_data(cli_env: str) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["orgs", "create", "--name", "Real Agency", "--acronym",
                                  "REAL", "--kind", "ngo", "--country", "SYR"])
    assert created.exit_code == 0, created.output
    refused = runner.invoke(app, ["demo", "load"])
    assert refused.exit_code == 2
    assert "empty database" in refused.output
