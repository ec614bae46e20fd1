"""Use cases around the core: reading event files, ingesting events, running reports."""
