"""Derivation: warps x bases -> exact generators and lag matrices (routes: exact linear algebra,
symbolic integration, mpmath quadrature)."""
