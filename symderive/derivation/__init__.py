"""Derivation: warps x bases -> generators and lag matrices (routes: exact linear algebra, the exact
algebraic route, symbolic integration, numeric quadrature)."""
