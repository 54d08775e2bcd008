"""Nightly rolling-7-day operator metrics (activation, Chatwoot SLA resolution)."""
