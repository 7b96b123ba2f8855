"""Accord's core: concepts, rules and use cases. Plain Python, no I/O frameworks."""
