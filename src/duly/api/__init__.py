"""The REST API: FastAPI routers, request and response schemas, token auth."""

#: Every route but ``/healthz``, ``/metrics`` and the OpenAPI pages is under this prefix. Routers
#: carry it themselves, so each route's own path is the full template (what metrics label).
API_PREFIX = "/api/v1"
