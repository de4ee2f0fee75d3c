"""The HTTP layer: FastAPI routers that validate input and call the pipeline and the store."""
