"""One settings object for the whole process: defaults, then a TOML file, then environment.

The TOML file is ``vigie.toml`` in the working directory or the path in ``VIGIE_CONFIG``.
Environment variables are ``VIGIE_<FIELD>`` for top-level fields and
``VIGIE_<SECTION>__<FIELD>`` for nested ones (for example ``VIGIE_DETECTION__FLAG_THRESHOLD``).
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


class DetectionSettings(BaseModel):
    flag_threshold: float = Field(
        0.5, ge=0, le=1, description="conversation risk that opens a case"
    )
    hold_threshold: float = Field(0.85, ge=0, le=1, description="risk at which messages are held")
    embedder: str = Field("use-multilingual-v3", description="sentence-embedding model name")
    banks_dir: str | None = Field(
        None, description="example banks of the Sentinel baseline (vigie eval); default: shipped"
    )
    semantic: bool = Field(True, description="embed the messages the text model's gate selects")
    model_path: str | None = Field(
        None, description="the text model file (make train); default: the one shipped"
    )


class MediaSettings(BaseModel):
    max_upload_bytes: int = 8 * 1024 * 1024
    pdq_threshold: int = 31
    pdq_min_quality: int = 50
    store_bytes: bool = False


class ApiSettings(BaseModel):
    max_body_bytes: int = 1024 * 1024
    max_events_per_batch: int = Field(
        1000, ge=1, le=1000, description="events in one POST /v1/events body (422 above)"
    )
    max_text_chars: int = Field(
        4000, ge=1, le=20000, description="characters in one message's text (422 above)"
    )
    max_text_chars_per_request: int = Field(
        256_000, ge=1, description="characters of text in one POST /v1/events body (422 above)"
    )
    cpu_budget_s: float = Field(
        5.0,
        ge=0,
        description="CPU seconds one request's events may take in the pipeline (422 past it; "
        "0: no budget); below the request timeout, so others wait less than that",
    )
    rate_limit_per_minute: int = 6000
    request_timeout_s: float = 10.0
    workers: int = Field(1, ge=1, description="processes `vigie serve` starts")
    decider: Literal["auto", "process", "loop"] = Field(
        "auto",
        description="where POST /v1/events runs the pipeline on SQLite: its own process "
        "(`process`; `auto` means this for `vigie serve` with one worker) or the serve loop",
    )


class RetentionSettings(BaseModel):
    retention_days: int = 180
    legal_hold_days: int = 365


class ReportsSettings(BaseModel):
    """Reports prepared and sent from the console (docs/reports.md, "From the console")."""

    approval_valid_hours: float = Field(
        72,
        gt=0,
        description="hours a referent's approval of a report may be used to send it; after "
        "that a referent approves it again (a stale approval vouches for a case as it was)",
    )
    outbox_dir: str = Field("var/outbox", description="where evidence packages are written")
    keys_dir: str | None = Field(None, description="signing keys; default var/keys")
    legal_entity: str | None = Field(
        None, description="the platform's legal entity, named in French authorities' packages"
    )
    requisition_contact: str | None = Field(None, description="where requisitions go")
    ncmec_url: str | None = Field(
        None, description="CyberTipline API base URL; default NCMEC's test environment"
    )
    ncmec_production: bool = Field(False, description="send to NCMEC's production API")
    ncmec_username: str | None = None
    ncmec_password: str | None = None
    ncmec_retries: int = Field(
        4, ge=0, description="retries of /upload, /fileinfo, /finish, /retract on 429/5xx"
    )
    ncmec_reporter_email: str | None = Field(
        None, description="reportingPerson email NCMEC contacts about the platform's reports"
    )
    ncmec_service: str | None = Field(None, description="the product's name (espService)")
    ncmec_legal_url: str | None = Field(
        None, description="where law enforcement sends legal process (legalURL)"
    )
    ncmec_game: str | None = Field(None, description="a game's name: files onlineGamingIncident")


class MatrixSettings(BaseModel):
    """One Synapse homeserver protected through synapse-http-antispam (docs/integrations/matrix.md).

    Keyed by Vigie platform name in ``[matrix.<platform>]``: the homeserver's spam checks
    authenticate with that platform's API key.
    """

    homeserver_url: str = Field(description="where Vigie reaches the homeserver's APIs")
    admin_token: str = Field(description="access token of a homeserver admin account")
    notices_user: str | None = Field(
        None, description="the server-notices account (its messages are not checked)"
    )
    adult_age: int = Field(18, ge=1, description="accounts this old or older are adults")
    refuse_invites: bool = Field(
        True,
        description="refuse an adult with an open case (or restricted) inviting a minor, "
        "and a minor joining a room where such an adult is",
    )
    hold_reason: str = "This message is held for review by this server's child-safety team."
    block_reason: str = "This message was not delivered: it breaks this server's safety rules."
    invite_reason: str = "This invitation was refused by this server's child-safety rules."
    members_cache_s: float = Field(5.0, ge=0, description="how long a room's members are kept")


DEFAULT_SECRET_KEY = "dev-insecure-change-me"


class Settings(BaseModel):
    env: str = Field(
        "development", description='"production" refuses to start with insecure defaults'
    )
    database_url: str = "sqlite:///./var/vigie.db"
    bus_url: str | None = None
    redis_url: str | None = Field(
        None, description="Redis shared by every process and node for the rate limits"
    )
    secret_key: str = Field(DEFAULT_SECRET_KEY, description="signs console sessions")
    cookie_secure: bool = Field(
        False, description="console cookies Secure even when Vigie sees http (TLS proxy)"
    )
    hsts_max_age_s: int = Field(
        0, ge=0, description="Strict-Transport-Security max-age on every answer; 0: none"
    )
    evidence_key: str | None = Field(None, description="encrypts evidence at rest when set")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    policy_file: str | None = None
    safety_country: str = Field("FR", description="country whose helplines children are shown")
    deliver_webhooks: bool = Field(True, description="run the webhook dispatcher in serve")
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    matrix: dict[str, MatrixSettings] = Field(
        default_factory=dict, description="Matrix homeservers, by Vigie platform name"
    )

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        """Anyone who knows the default secret can forge console sessions' signatures."""
        if self.env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "secret_key is the default while env is production: set VIGIE_SECRET_KEY "
                "to a long random value (python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return self


def _toml_values(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _env_values(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    sections = {
        name
        for name, f in Settings.model_fields.items()
        if f.annotation is not None
        and isinstance(f.annotation, type)
        and issubclass(f.annotation, BaseModel)
    }
    for key, raw in environ.items():
        if not key.startswith("VIGIE_") or key == "VIGIE_CONFIG":
            continue
        name = key[len("VIGIE_") :].lower()
        if "__" in name:
            section, field = name.split("__", 1)
            if section in sections:
                values.setdefault(section, {})[field] = raw
        elif name in Settings.model_fields and name not in sections:
            values[name] = raw
    return values


def merge_dicts(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``, nested tables merged key by key (TOML layers)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(environ: dict[str, str] | None = None, config: Path | None = None) -> Settings:
    """Build settings from the TOML file and the environment (environment wins)."""
    env = dict(os.environ if environ is None else environ)
    path = config or Path(env.get("VIGIE_CONFIG", "vigie.toml"))
    return Settings.model_validate(merge_dicts(_toml_values(path), _env_values(env)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
