"""The paper's RNN in JAX: model, initialization, training, empirical NTK, data and targets.

See docs/theory.md sections 2 (model, training), 3 (kernel) and 5 (concept classes).
"""

from ._data import (
    FUNCTIONS,
    AdditiveTarget,
    NVariableTarget,
    ParityTarget,
    RandomLabelTarget,
    Task,
    TokenDistribution,
    length_bucket,
    pad_front,
    sample_bucket,
    split_keys,
)
from ._keys import DOMAINS, CaseKeys, case_keys, leaf_keys, stream_key
from ._norms import weight_norms
from ._ntk import NTK_METHODS, empirical_ntk, grad_w, linearized_predict, ntk_factors
from ._real import (
    DATASETS,
    REDUCTIONS,
    DatasetSource,
    EmpiricalTask,
    MissingExtraError,
    RealData,
    Tokenisation,
    check_dataset,
    data_available,
    load_raw,
    load_real,
    paa,
    resolve_dataset,
    shipped_datasets,
)
from ._rnn import (
    PARAMETRIZATIONS,
    Parametrization,
    Params,
    RNNConfig,
    apply,
    apply_w,
    centred_apply,
    get_parametrization,
    hidden_states,
    init_params,
    init_seeds,
    pad_width,
    predict_seeds,
    predict_u,
)
from ._train import (
    LOSSES,
    METHODS,
    TrainConfig,
    TrainRecord,
    eval_loss,
    record_to_numpy,
    sgd_samples,
    train,
    train_seeds,
)
from ._validation import check_choice, check_float, check_int, check_positions, check_tokens

__all__ = [
    "FUNCTIONS", "LOSSES", "METHODS", "NTK_METHODS", "PARAMETRIZATIONS", "Parametrization",
    "AdditiveTarget", "NVariableTarget", "ParityTarget", "RandomLabelTarget", "Task",
    "TokenDistribution", "Params", "RNNConfig", "TrainConfig", "TrainRecord", "apply", "apply_w",
    "centred_apply", "get_parametrization", "check_choice", "check_float", "check_int",
    "check_positions", "check_tokens", "empirical_ntk", "eval_loss", "grad_w", "hidden_states",
    "init_params", "init_seeds", "linearized_predict", "ntk_factors", "predict_seeds", "predict_u",
    "length_bucket", "pad_front", "pad_width", "record_to_numpy", "sample_bucket", "sgd_samples",
    "split_keys", "train", "train_seeds",
    # key domains (docs/theory.md section 4, "Independence")
    "DOMAINS", "CaseKeys", "case_keys", "leaf_keys", "stream_key",
    # real data (optional extra 'data')
    "DATASETS", "EmpiricalTask", "MissingExtraError", "RealData", "Tokenisation", "check_dataset",
    "data_available", "load_raw", "load_real", "DatasetSource", "REDUCTIONS", "paa",
    "resolve_dataset", "shipped_datasets",
    "weight_norms",
]
