"""Actions: what Vigie does for the child and tells the platform (safety messages, webhooks)."""
