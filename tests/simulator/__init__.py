"""Simulated miners that speak the real protocols on their own loopback addresses."""
