"""Asynchronous mode: the API publishes events to NATS JetStream, ``vigie worker`` consumes them.

See ``docs/scale-out.md``. Nothing here is imported unless ``VIGIE_BUS_URL`` is set.
"""
