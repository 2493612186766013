from __future__ import annotations

from typer.testing import CliRunner

from havens.cli.main import app


def test_create_org_user_and_token_from_the_command_line(cli_env: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["orgs", "create", "--name", "Norwegian Refugee Council",
                                 "--acronym", "NRC", "--kind", "ngo", "--country", "nor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["users", "create", "--email", "reg@nrc.example.org",
                                 "--org", "NRC", "--role", "registrar", "--password-stdin"],
                           input="a long password for tests\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["tokens", "create", "--email", "reg@nrc.example.org"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("hvn_")
    listed = runner.invoke(app, ["users", "list"])
    assert "reg@nrc.example.org" in listed.output


def test_cli_errors_are_one_clear_line(cli_env: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["users", "create", "--email", "x@y.org", "--org", "NOPE",
                                 "--role", "viewer", "--password-stdin"],
                           input="a long password for tests\n")
    assert result.exit_code == 2
    assert "No organisation with acronym NOPE" in result.output
    short = runner.invoke(app, ["orgs", "create", "--name", "A", "--acronym", "AA",
                                "--kind", "ngo", "--country", "SYR"])
    assert short.exit_code != 0
