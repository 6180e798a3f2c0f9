"""Tests of the Home Miner integration."""
