"""Parsing and validation of user inputs (expressions, specs, parameters)."""
