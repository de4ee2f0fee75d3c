"""The event bus's transport, shared by the two adapters that use it: the API publishes
(``publisher.py``), the bus workers consume (``vigie.bus``).

Settings, the envelope, partitioning and the JetStream layout sit here, below both adapters,
so that neither imports the other (the independence contract in ``pyproject.toml``). Nothing
here is imported unless ``VIGIE_BUS_URL`` is set.
"""
