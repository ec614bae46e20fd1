"""The dashboard: server-rendered pages over the same service functions as the API."""
