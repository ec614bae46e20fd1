"""The live monitor: clocks crossing thresholds become alerts in an outbox, then deliveries."""
