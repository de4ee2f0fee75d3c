"""One scoring loop: the live pipeline and ``vigie scan`` flag the same conversation at the
same message (issue 17: both build each message's context the same way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.conversations import ConversationRecord, read_conversations
from vigie.detect.registry import build_text_detectors
from vigie.detect.scoring import score_conversation
from vigie.events import AccountEvent, MessageEvent
from vigie.platforms import create_platform
from vigie.runtime import build_pipeline
from vigie.settings import DetectionSettings, Settings
from vigie.store.sql import SqlStore

FIXTURES = Path(__file__).parent / "fixtures" / "conversations_small.jsonl"
RECORDS = list(read_conversations(FIXTURES))


def _events(rec: ConversationRecord) -> list[AccountEvent | MessageEvent]:
    accounts = [
        AccountEvent(type="account", id=f"{rec.id}-acc-{h}", account=f"{rec.id}-{h}", age=p.age)
        for h, p in rec.participants.items()
    ]
    messages = [
        MessageEvent(type="message", id=f"{rec.id}-m{i}", conversation=rec.id,
                     sender=f"{rec.id}-{sender}", text=text,
                     recipients=[f"{rec.id}-{h}" for h in rec.participants if h != sender])
        for i, (sender, text, _) in enumerate(rec.messages)
    ]  # fmt: skip
    return [*accounts, *messages]


@pytest.mark.parametrize("rec", RECORDS, ids=[r.id for r in RECORDS])
def test_pipeline_and_scan_flag_at_the_same_message(rec: ConversationRecord,
                                                    store: SqlStore) -> None:  # fmt: skip
    settings = Settings(database_url=str(store.engine.url),
                        detection=DetectionSettings(semantic=False))  # fmt: skip
    scanned = score_conversation(rec, build_text_detectors(settings),
                                 settings.detection.flag_threshold)  # fmt: skip
    pipeline = build_pipeline(settings, store)
    with store.unit() as unit:
        platform = create_platform(unit, "p", None).platform
    answers = [pipeline.process_batch(platform, [ev])[0] for ev in _events(rec)]
    live = [a for a in answers if a["id"].startswith(f"{rec.id}-m")]
    first_case = next((i for i, a in enumerate(live) if a["case"]), None)
    assert first_case == scanned.first_flag_index


def test_the_comparison_covers_flagged_conversations() -> None:
    detectors = build_text_detectors(Settings(detection=DetectionSettings(semantic=False)))
    flagged = [r.id for r in RECORDS if score_conversation(r, detectors, 0.5).flagged]
    risky = [r.id for r in RECORDS if r.risky]
    assert len(flagged) >= len(risky) // 2, (flagged, risky)
