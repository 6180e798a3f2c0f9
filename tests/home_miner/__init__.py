"""Tests of the integration in Home Assistant, against simulated miners."""
