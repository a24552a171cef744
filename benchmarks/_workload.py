"""A small CI-like workload, run in a fresh subprocess by the compilation benchmark (6).

    python -m benchmarks._workload CACHE_DIR [quick]   (CACHE_DIR '' disables the persistent cache)

It exercises what the fast test tier exercises at small sizes (forward pass, GD and SGD training
of one and of several seeds, both empirical-NTK methods, the linearized predictor, the analytic
kernel) and prints one JSON line: the workload's wall time and the compilation counts of
``benchmarks/_jaxevents.py``.
"""

from __future__ import annotations

import json
import sys
import time


def main(cache_dir: str, quick: bool = False) -> dict:
    import jax

    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    from benchmarks._jaxevents import count_compilations

    counts = count_compilations()

    import numpy as np

    import models
    import theory

    t0 = time.perf_counter()
    L, d = 5, 3
    task = models.Task(models.TokenDistribution(L=L, d=d),
                       models.AdditiveTarget.make(L, d, "sin", positions=(1,)))
    X, y = task.sample(jax.random.key(0), 32)
    Xte, yte = task.sample(jax.random.key(1), 16)
    for m in (16,):
        cfg = models.RNNConfig(d=d, m=m)
        p = models.init_params(jax.random.key(2), cfg)
        models.apply(p, X)
        for loss in ("squared",) if quick else ("squared", "logistic"):
            yy = y if loss == "squared" else np.sign(np.asarray(y)) + (np.asarray(y) == 0)
            yyte = yte if loss == "squared" else np.sign(np.asarray(yte)) + (np.asarray(yte) == 0)
            rec = models.train(p, models.TrainConfig(method="gd", lr=0.05, steps=20, loss=loss),
                               X, yy, X_test=Xte, y_test=yyte)
        ps = models.init_seeds(jax.random.split(jax.random.key(3), 4), cfg)
        models.train_seeds(ps, models.TrainConfig(method="gd", lr=0.05, steps=20), X, y,
                           X_test=Xte, y_test=yte)
        models.train(p, models.TrainConfig(method="sgd", lr=0.05, steps=20), X_test=Xte, y_test=yte,
                     task=task, key=jax.random.key(4))
        for method in ("factored",) if quick else ("factored", "jacobian"):
            models.empirical_ntk(p, X[:8], method=method)
        jax.block_until_ready(models.linearized_predict(p, rec.W, Xte))
    theory.ntk_gram(np.asarray(X))
    theory.ntk_gram(np.asarray(X), np.asarray(Xte))
    wall = time.perf_counter() - t0
    return {"wall_s": wall, **counts}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "", quick="quick" in sys.argv[2:])))
