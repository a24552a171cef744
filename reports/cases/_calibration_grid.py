"""The calibration grid of the predicted bound P (docs/theory.md section 4, "Predicted bound").

The fixed parameters (the domain) and the lattice of (L, n) complexity points and (L, m, n) gap
points that ``_calibrate`` measures. They stand apart from the measuring so that an evaluation can
tell whether a case lies on the grid (``_evaluate.on_calibration_grid``: on it, P is in sample)
without importing the calibration, which itself evaluates bound cases.
"""

from __future__ import annotations

DOMAIN = {"d": 5, "scale": 1.0, "method": "gd", "parametrization": "lazy", "f": "sin",
          "steps": 150, "lr_frac": 1.0, "L_range": [2, 8], "m_range": [64, 256],
          "n_range": [200, 1600]}
C_LS, C_NS, C_SEEDS = (2, 4, 8), (200, 400, 800, 1600), (0, 1)
NVAR_SHAPES = ((1, 0), (2, 1), (2, 3), (3, 2), (3, 7))  # (N, l_0), when they fit in L
GAP_LS, GAP_MS, GAP_NS = (2, 4, 8), (64, 128, 256), (200, 1600)
