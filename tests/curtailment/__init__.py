"""Tests of the curtailment engine."""
