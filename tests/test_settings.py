from pathlib import Path

from vigie.settings import load_settings


def test_defaults_then_toml_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "vigie.toml"
    cfg.write_text("port = 9000\n[detection]\nflag_threshold = 0.7\n", encoding="utf-8")
    s = load_settings(
        {
            "VIGIE_CONFIG": str(cfg),
            "VIGIE_DETECTION__FLAG_THRESHOLD": "0.4",
            "VIGIE_DATABASE_URL": "sqlite:///x.db",
            "OTHER": "ignored",
        }
    )
    assert s.port == 9000
    assert s.detection.flag_threshold == 0.4
    assert s.database_url == "sqlite:///x.db"
    assert s.api.max_body_bytes == 1024 * 1024


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings({}, config=tmp_path / "absent.toml")
    assert s.database_url.startswith("sqlite:///")
    assert s.bus_url is None
