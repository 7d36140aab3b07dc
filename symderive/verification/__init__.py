"""Verification: exact comparison with published HiPPO matrices, structure theorems, closed forms and certificates."""
