"""Experiments on derived models: the paper's figures, discretization tables, a multi-resolution bank.

The last stage of the pipeline: it consumes derived models (``symderive.derivation``), verdicts
(``symderive.verification``) and generated kernels (``symderive.codegen``) and produces figures and
tables. ``scripts/replicate_paper.py --out DIR`` runs everything (:func:`.replicate.replicate`).

- :mod:`.signals`: the test inputs (sum of sines, white noise, random walk, a step);
- :mod:`.reference`: the exact projection of a held input onto a warped Legendre basis, in mpmath;
- :mod:`.discretizations`: ODE discretization rules (forward/backward Euler, bilinear, ZOH), fixed
  step and the time-varying rules of the HiPPO reference code;
- :mod:`.packages`: export and import generated packages for the runs;
- :mod:`.discretization_table`: lag recurrence vs the ODE rules, measured against the reference;
- :mod:`.multires`: a bank of exponential warps at several rates, as one generated package;
- :mod:`.figures`: the figures (matplotlib, the ``plot`` extra); :mod:`.report`: Markdown tables.
"""
