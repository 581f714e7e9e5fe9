"""Configuration from the environment: the original project's variable names still work."""

import dj_database_url

from ally360.settings import database_url_from_env, redis_url_from_env


def test_postgres_variables_build_a_url_even_with_a_generated_password(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in {
        "POSTGRES_HOST": "db",
        "POSTGRES_PORT": "6543",
        "POSTGRES_DB": "erp",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "p@ss:w/rd#1",
    }.items():
        monkeypatch.setenv(name, value)
    parsed = dj_database_url.parse(database_url_from_env())
    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"]) == ("db", 6543, "erp")
    assert (parsed["USER"], parsed["PASSWORD"]) == ("app", "p@ss:w/rd#1")


def test_database_url_wins_and_nothing_configured_means_embedded(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://a:b@h:5432/d")
    monkeypatch.setenv("POSTGRES_HOST", "ignored")
    assert database_url_from_env() == "postgres://a:b@h:5432/d"
    for name in ("DATABASE_URL", "POSTGRES_HOST", "POSTGRES_DB"):
        monkeypatch.delenv(name, raising=False)
    assert database_url_from_env() is None


def test_redis_host_variables(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_HOST", "cache")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("REDIS_DB", "2")
    assert redis_url_from_env() == "redis://cache:6380/2"


def test_env_example_names_every_variable_the_settings_read():
    """The README says `.env.example` lists every variable: every name settings.py reads from
    the environment appears there (set or commented)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = (root / "ally360" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:_[a-z]+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    example = (root / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert len(read) > 40
    assert sorted(read - listed) == []
