"""A simulated house: real PV and load over simulated miners, a day in compressed time."""
