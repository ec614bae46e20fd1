"""The REST API: FastAPI routers, request and response schemas, token auth."""
