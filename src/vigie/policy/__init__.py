"""Policy: the one place that turns signals and context into actions."""
