"""The composition root: the one place that builds the pipeline and its parts from settings.

``vigie serve`` (the API and its decider process), ``vigie worker`` (the bus), ``vigie demo``
and ``vigie scan`` all get their detectors, policy, media matcher and pipeline here, so they
decide alike, and no adapter has to build another adapter to get them (the bus worker used to
build the FastAPI app for its pipeline). Adapters (``api/``, ``console/``, ``bus/``, the
commands) sit above this package; everything it wires together sits below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vigie.settings import Settings

if TYPE_CHECKING:
    from vigie.detect.base import TextDetector
    from vigie.detect.media.matcher import MediaMatcher
    from vigie.pipeline import Pipeline
    from vigie.store.base import Store


def text_detectors(settings: Settings) -> list[TextDetector]:
    """The text detectors of this process, in the order they run (scan, eval and pipeline)."""
    from vigie.detect.registry import build_text_detectors

    return build_text_detectors(settings)


def media_matcher(settings: Settings, engine: Any | None) -> MediaMatcher:
    """The known-imagery matcher on the hash lists of ``engine``'s database, with the settings'
    quality floor; with no engine (a store that is not SQL) it matches nothing but still
    checks the hashes it is sent."""
    from vigie.detect.media.matcher import MediaMatcher
    from vigie.store.hashlists import SqlHashLists

    source = SqlHashLists(engine) if engine is not None else None
    return MediaMatcher(source, min_quality=settings.media.pdq_min_quality)


def build_pipeline(settings: Settings, store: Store) -> Pipeline:
    """The one pipeline of this process, with its detectors and policy loaded once.

    Its matrix work (sentence embeddings, similarities) is small and per request: BLAS stays
    on one thread, as idle BLAS threads spin on the cores that serve requests. ``store`` is
    the one the pipeline writes through (the bus worker's is fenced by partition ownership).
    """
    from threadpoolctl import threadpool_limits

    from vigie.pipeline import Pipeline
    from vigie.policy.engine import load_policy

    threadpool_limits(limits=1, user_api="blas")
    policy = load_policy(settings.policy_file, settings.detection)
    media = media_matcher(settings, getattr(store, "engine", None))
    detectors = text_detectors(settings)
    for detector in detectors:  # one-time costs here, not in the first request's CPU budget
        warm = getattr(detector, "warm", None)
        if callable(warm):
            warm()
    return Pipeline(store, detectors, policy, media, settings.safety_country)
