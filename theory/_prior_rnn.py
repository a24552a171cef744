"""Earlier norm-based generalization bounds for vanilla RNNs, evaluated on our trained networks.

Provenance: ``prior`` (docs/theory.md section 0): results of earlier work, for contrast; none is the
paper's theorem. Each function says where its formula comes from and every adaptation made to
our setting. Our setting (docs/theory.md section 2): h_l = relu(W h_{l-1} + A X_l), no biases, scalar
output f = B . h_L, only W trained, the centred predictor u = f(W; x) - f(W0; x), regression with
the clipped loss l(u, y) = min(1, |u - y|), which is [0, 1]-valued and 1-Lipschitz in u.

Symbols -> arguments: L (sequence length, their t or L) = ``L``; width m = ``m`` (their n or m);
token dimension d = ``d``; sample size n = ``n`` (their m or n); ``delta``; norms from
``models.weight_norms`` (keys in its docstring).

What was found and what was not (looked up 2026-11-27 with the project's search tools):

- **Chen, Li & Zhao, AISTATS 2020** ("On Generalization Bounds of a Family of Recurrent Neural
  Networks", arXiv:1910.12947, PMLR v108 chen20d): only the abstract and secondary summaries were
  retrievable. The abstract says the bound is "in terms of the spectral norms of the weight
  matrices and the total number of parameters" (a covering-number bound, per Tu et al. 2020, who
  also note it assumes a bounded hidden activation, so it does not cover relu). Its formula, its
  constants and its exponents were **not found**: no function is implemented for it (claim
  ``P-CLZ`` says so) rather than a guessed one.
- **Zhang, Lei & Dhillon, ICML 2018** ("Stabilizing Gradients for Deep Neural Networks via
  Efficient SVD Parameterization", arXiv:1803.09327): the theorem text was not retrievable (the
  stored full text is the ICLR 2018 submission, which has no generalization theorem). Its order
  was found secondhand, in Tu, He & Tao (ICLR 2020, section 3.2, "Comparison with existing
  results"):  O~( max{d, m, k} L^2 ||U||_2 ||V||_2 max{1, ||W||_2^L} / (sqrt(n) alpha) )
  (U input, V output, W recurrent, k classes, alpha the margin). ``zld_order_form`` evaluates that
  order with **unit constant and no logarithmic factors** (both not found): it is the bound's
  shape, not a bound; its 'validity' is never judged (claim ``P-ZLD``).
- **Tu, He & Tao, ICLR 2020** ("Understanding Generalization in Recurrent Neural Networks",
  OpenReview text of the submission): a norm-based Rademacher bound for exactly our architecture
  (relu vanilla RNN, no biases, output read at step L), with every constant explicit (its
  Theorem 1, combined with the standard Rademacher risk bound as in its Theorem 2).
  ``tht_bound`` implements it (claim ``P-THT``); it stands in for the norm-based Rademacher bound
  the issue asked for, since Chen et al.'s could not be found.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from models import check_float, check_int

from ._bounds import json_safe

PROVENANCE = {"tht_bound": "prior", "tht_lambda": "prior", "zld_order_form": "prior",
              "prior_rnn_bounds": "prior"}

#: Where each prior bound comes from (also shown in the claim registry and the reports).
SOURCES = {
    "P-THT": "Tu, He & Tao, 'Understanding Generalization in Recurrent Neural Networks', ICLR 2020, "
             "Theorem 1 (Rademacher complexity) with the risk bound of its Theorem 2 / Lemma 7 "
             "(OpenReview submission text)",
    "P-ZLD": "Zhang, Lei & Dhillon, ICML 2018, arXiv:1803.09327 (PAC-Bayes spectral bound), order "
             "as restated by Tu, He & Tao, ICLR 2020, section 3.2",
    "P-CLZ": "Chen, Li & Zhao, AISTATS 2020, arXiv:1910.12947 (formula not retrievable)",
}


@dataclass(frozen=True)
class PriorBound:
    """A prior bound's value and its named terms (``vacuous``: value >= 1 for a [0, 1] loss).

    ``rigorous`` is True when the value is a complete, explicit theorem evaluated as stated, False
    otherwise: an order form with unit constant (the bound's shape only), or a theorem evaluated
    at data-dependent norm levels without its union bound (P-THT); reports never judge validity
    for these.
    """

    name: str
    value: float
    main_term: float
    confidence_term: float
    train_loss: float
    n: int
    delta: float
    rigorous: bool
    vacuous: bool
    source: str
    provenance: str = "prior"
    terms: dict = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


def tht_lambda(beta_W: float, L: int) -> float:
    """Lambda of Tu, He & Tao 2020, Theorem 1:  sum_{k=0}^{L-1} (k + 1) beta_W^k, i.e.
    (1/(1-b)) ((1 - b^L)/(1 - b) - L b^L) for b != 1 and (L + L^2)/2 for b = 1 (the same number;
    the sum form is used, it has no cancellation near b = 1)."""
    check_float("beta_W", beta_W, low=0.0)
    L = check_int("L", L, low=1)
    return math.fsum((k + 1) * beta_W**k for k in range(L))


def tht_bound(*, L: int, n: int, beta_V: float, beta_W: float, beta_U: float, X_fro: float,
              X_col1: float, fisher_rao: float, lambda_min: float, train_loss: float = 0.0,
              delta: float = 0.05) -> PriorBound:
    """Tu, He & Tao (ICLR 2020), Theorem 1 + the Rademacher risk bound (tag: prior).

    Their Theorem 1 (relu vanilla RNN g_t = U x_t + W h_{t-1}, h_t = relu(g_t), y_L = V h_L,
    weights with ||V^T||_1 <= beta_V, ||W^T||_1 <= beta_W, ||U^T||_1 <= beta_U and Fisher-Rao
    norm ||theta||_fs <= r; X the Ld x n data matrix):

        Rad_S <= r ||X||_F / (2 n) * sqrt(1 / lambda_min(E x x^T)) + beta_V beta_U ||X^T||_1 Lambda / n

    with Lambda = ``tht_lambda(beta_W, L)``. Risk bound (their Theorem 2 uses Lemma 7, a margin
    bound with factor 4k/alpha for k classes; for our [0, 1]-valued 1-Lipschitz regression loss the
    standard Rademacher bound with Talagrand's contraction gives the factor 2):

        risk <= train_loss + 2 Rad_S + 3 sqrt(log(2 / delta) / (2 n)).

    Adaptations, all stated: (1) our U, V are A and B (B as a 1 x m matrix: ||B^T||_1 = ||B||_1),
    k = 1; (2) only W is trained and A, B are fixed, so our class is a subset of theirs (the bound
    still holds); (3) the centred predictor f(W) - f(W0) is their class shifted by one fixed
    function, which leaves the Rademacher complexity unchanged; (4) beta_V, beta_W, beta_U, r
    are evaluated at the trained weights' own norms (the theorem is for norm levels fixed in
    advance; the union bound over levels that would make this data-dependent choice rigorous is
    omitted, as is usual when bounds are compared empirically, e.g. Jiang et al. 2020), so the
    value is slightly optimistic; (5) r (a population expectation) and lambda_min(E x x^T) are
    estimated on the training inputs (``models.weight_norms``); (6) their text defines
    tau(theta) with the output matrix V missing from all but the last column (a typo: its
    linear-network identity needs V W^{L-i} U x_i in column i), read here with V.
    """
    L = check_int("L", L, low=1)
    n = check_int("n", n, low=1)
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    check_float("train_loss", train_loss, low=0.0, high=1.0)
    for name, v in (("beta_V", beta_V), ("beta_W", beta_W), ("beta_U", beta_U), ("X_fro", X_fro),
                    ("X_col1", X_col1), ("fisher_rao", fisher_rao)):
        check_float(name, v, low=0.0)
    check_float("lambda_min", lambda_min, low=0.0)
    lam = tht_lambda(beta_W, L)
    if lambda_min <= 0.0:
        fr_term = 0.0 if fisher_rao == 0.0 else float("inf")
    else:
        fr_term = fisher_rao * X_fro / (2.0 * n) * math.sqrt(1.0 / lambda_min)
    path_term = beta_V * beta_U * X_col1 * lam / n
    main = 2.0 * (fr_term + path_term)
    conf = 3.0 * math.sqrt(math.log(2.0 / delta) / (2.0 * n))
    value = train_loss + main + conf
    # rigorous False: evaluated at the trained weights' own norms without the union bound over
    # norm levels (adaptation 4), it is not the theorem as stated, so no validity verdict
    return PriorBound("P-THT", value, main, conf, train_loss, n, delta, False, value >= 1.0,
                      SOURCES["P-THT"],
                      terms={"fisher_rao_term": fr_term, "path_term": path_term, "Lambda": lam,
                             "beta_V": beta_V, "beta_W": beta_W, "beta_U": beta_U,
                             "fisher_rao": fisher_rao, "lambda_min": lambda_min})


def zld_order_form(*, L: int, m: int, d: int, n: int, spec_A: float, spec_B: float,
                   spec_W: float, x_max: float, gamma: float = 1.0, k: int = 1,
                   train_loss: float = 0.0, delta: float = 0.05) -> PriorBound:
    """Order of the PAC-Bayes spectral bound of Zhang, Lei & Dhillon (ICML 2018) (tag: prior).

    Evaluates, with unit constant and without its logarithmic factors (neither was found),

        train_loss + max{d, m, k} L^2 ||A||_2 ||B||_2 max{1, ||W||_2^L} B_x / (sqrt(n) gamma),

    the order restated by Tu, He & Tao (ICLR 2020, section 3.2) as
    O~( max{d, m, k} L^2 ||U||_2 ||V||_2 max{1, ||W||_2^L} / (sqrt(n) alpha) ).
    Adaptations: (1) U, V -> A, B (||B||_2 of B as a 1 x m matrix), k = 1 output; (2) the margin
    alpha of their classification loss -> gamma = 1, the Lipschitz constant of our clipped loss
    (a margin loss with margin gamma is 1/gamma-Lipschitz); (3) the restatement has no input-norm
    factor (inputs normalized there); a bias-free relu network is 1-homogeneous in x, so the
    bound's scale must carry B_x = max ||X_l|| (``x_max``), and this factor is ours; (4) the
    centred predictor is the class shifted by a fixed function. The number is the bound's
    *shape*: ``rigorous`` is False and no validity verdict is ever drawn from it; since the
    omitted constant and logarithms are >= 1 in the usual statements, a value >= 1 here means the
    original bound is vacuous too (by at least this factor), which is how reports use it.
    """
    L = check_int("L", L, low=1)
    m = check_int("m", m, low=1)
    d = check_int("d", d, low=1)
    n = check_int("n", n, low=1)
    k = check_int("k", k, low=1)
    check_float("gamma", gamma, low=0.0, low_open=True)
    check_float("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    check_float("train_loss", train_loss, low=0.0, high=1.0)
    for name, v in (("spec_A", spec_A), ("spec_B", spec_B), ("spec_W", spec_W), ("x_max", x_max)):
        check_float(name, v, low=0.0)
    growth = max(1.0, spec_W**L) if math.log(max(spec_W, 1.0)) * L < 690.0 else float("inf")
    main = max(d, m, k) * L**2 * spec_A * spec_B * growth * x_max / (math.sqrt(n) * gamma)
    value = train_loss + main
    return PriorBound("P-ZLD", value, main, 0.0, train_loss, n, delta, False, value >= 1.0,
                      SOURCES["P-ZLD"],
                      terms={"width_factor": max(d, m, k), "length_factor": L**2,
                             "recurrent_growth": growth, "spec_A": spec_A, "spec_B": spec_B,
                             "x_max": x_max, "gamma": gamma},
                      note="order form: unit constant, logarithmic factors omitted (not found)")


_NEEDED = ("W_spec", "W_inf", "A_spec", "A_inf", "B_l2", "B_l1", "x_max", "X_fro", "X_col1",
           "fisher_rao", "x_second_moment_min")


def prior_rnn_bounds(norms: dict, n: int, L: int, m: int, d: int, delta: float = 0.05, *,
                     train_loss: float = 0.0) -> dict[str, PriorBound]:
    """Every implemented prior bound from a ``models.weight_norms`` dict (as stored under
    ``metrics['norms']`` of a G2-net record): {'P-THT': ..., 'P-ZLD': ...}. Chen, Li & Zhao's
    bound (claim P-CLZ) is absent: its formula was not found (module docstring)."""
    missing = [k for k in _NEEDED if k not in norms]
    if missing:
        raise ValueError(f"norms lacks {missing}: pass the dict of models.weight_norms "
                         f"(has {sorted(norms)})")
    if "n" in norms and int(norms["n"]) != n:
        raise ValueError(f"n = {n} but the norms were computed on {norms['n']} inputs: the data "
                         "terms (||X||_F, ||X^T||_1) must come from the same training sample")
    f = {k: float(norms[k]) for k in _NEEDED}
    return {
        "P-THT": tht_bound(L=L, n=n, beta_V=f["B_l1"], beta_W=f["W_inf"], beta_U=f["A_inf"],
                           X_fro=f["X_fro"], X_col1=f["X_col1"], fisher_rao=f["fisher_rao"],
                           lambda_min=max(f["x_second_moment_min"], 0.0),
                           train_loss=train_loss, delta=delta),
        "P-ZLD": zld_order_form(L=L, m=m, d=d, n=n, spec_A=f["A_spec"], spec_B=f["B_l2"],
                                spec_W=f["W_spec"], x_max=f["x_max"], train_loss=train_loss,
                                delta=delta),
    }
