"""The live monitor: finds clocks crossing thresholds, writes alerts to the outbox, delivers them."""
