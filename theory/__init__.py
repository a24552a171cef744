"""The theory the suite checks: the infinite-width kernel, the bounds, and the claim registry.

Every function carries a provenance tag (docs/theory.md section 0): see ``PROVENANCE`` and each claim
in ``REGISTRY``.
"""

from ._bounds import (
    PROVENANCE as BOUND_PROVENANCE,
)
from ._bounds import (
    VERDICTS,
    BoundResult,
    RateTest,
    allowed_violation_rate,
    binomial_tail,
    bound_verdict,
    complexity,
    confidence_term,
    g1_bound,
    g1_nested,
    g2_bound,
    gd_residual_bound,
    grid_index,
    grid_weight,
    hoeffding_lcb,
    hoeffding_ucb,
    infinite_bound,
    is_violation,
    kl_bernoulli,
    kl_lcb,
    kl_ucb,
    linearized_gd_trajectory,
    net_bound,
    prior_two_layer_form,
    rademacher_bound,
    sample_size,
    violation_rate_test,
    weight_movement_limit,
)
from ._claims import (
    AZL_EPS,
    C4_SMALL_L0,
    C4_SMALL_N,
    PROVENANCE_TAGS,
    REGISTRY,
    Claim,
    Hypothesis,
    LevelLaw,
    PowerLaw,
    RateLaw,
    get_claim,
)
from ._growth import GROWTH_MODELS, SCALING_VERDICTS, GrowthFit, GrowthTest, compare_growth
from ._kernel import ntk_diagonal, ntk_gram, ntk_gram_pair_reference
from ._linalg import (
    KernelSolve,
    NestedCholesky,
    SingularKernelError,
    kernel_solve,
    nested_cholesky,
    spectrum,
)
from ._predicted import (
    CALIBRATION_PATH,
    PREREGISTRATION_PATH,
    PredictedBound,
    fit_predicted_bound,
    load_calibration,
    load_preregistration,
)
from ._predicted import PROVENANCE as PREDICTED_PROVENANCE
from ._predicted import REGIONS as P_REGIONS
from ._predictors import (
    PROVENANCE as PREDICTOR_PROVENANCE,
)
from ._predictors import (
    GDPath,
    KernelPredictor,
    kernel_gd_path,
    kernel_gd_predictor,
    kernel_interpolant,
    kernel_sgd_predictor,
)
from ._prior_rnn import PROVENANCE as PRIOR_PROVENANCE
from ._prior_rnn import SOURCES as PRIOR_SOURCES
from ._prior_rnn import PriorBound, prior_rnn_bounds, tht_bound, tht_lambda, zld_order_form
from ._realdata import (
    MIN_PERMUTATIONS,
    LabelSeparation,
    PermutationTest,
    label_separation,
    permutation_labels,
    permutation_test,
)
from ._scale import ScaleTest

PROVENANCE = {**BOUND_PROVENANCE, **PREDICTOR_PROVENANCE, **PRIOR_PROVENANCE,
              **PREDICTED_PROVENANCE, "ntk_gram": "exact", "ntk_diagonal": "exact",
              "label_separation": "prior", "permutation_test": "prior",
              "permutation_labels": "prior",
              # the C2 / C4 decision rule on the declared laws, and C1's rule on the trained network
              "compare_growth": "paper-claim", "ScaleTest": "paper-claim"}

__all__ = [
    "ScaleTest", "GROWTH_MODELS", "GrowthFit", "GrowthTest", "SCALING_VERDICTS", "compare_growth",
    "AZL_EPS", "BOUND_PROVENANCE", "BoundResult", "C4_SMALL_L0", "C4_SMALL_N", "Claim",
    "Hypothesis", "KernelSolve", "LevelLaw", "NestedCholesky", "PROVENANCE", "PROVENANCE_TAGS",
    "PowerLaw", "REGISTRY", "RateLaw", "RateTest", "SingularKernelError", "VERDICTS",
    "allowed_violation_rate", "binomial_tail", "bound_verdict", "complexity",
    "confidence_term", "g1_bound", "g1_nested", "g2_bound", "gd_residual_bound", "get_claim", "grid_index",
    "grid_weight", "infinite_bound", "KernelPredictor", "kernel_gd_predictor", "kernel_interpolant",
    "kernel_sgd_predictor", "kernel_gd_path", "GDPath", "net_bound", "PREDICTOR_PROVENANCE",
    "CALIBRATION_PATH",
    "PredictedBound", "fit_predicted_bound", "load_calibration", "PREREGISTRATION_PATH",
    "load_preregistration", "P_REGIONS",
    "hoeffding_lcb", "hoeffding_ucb", "is_violation", "kl_bernoulli", "kl_lcb", "kl_ucb",
    "kernel_solve", "linearized_gd_trajectory",
    "nested_cholesky", "ntk_diagonal", "ntk_gram", "ntk_gram_pair_reference",
    "prior_two_layer_form", "PRIOR_PROVENANCE", "PRIOR_SOURCES", "PriorBound", "prior_rnn_bounds",
    "tht_bound", "tht_lambda", "zld_order_form",
    "rademacher_bound", "sample_size", "spectrum", "violation_rate_test", "weight_movement_limit",
    "LabelSeparation", "label_separation", "MIN_PERMUTATIONS", "PermutationTest",
    "permutation_labels", "permutation_test",
]
