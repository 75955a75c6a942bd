"""Reliability and security: bad input, properties, faults, load across swaps."""
