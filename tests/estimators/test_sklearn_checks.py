"""scikit-learn's estimator checks over all six estimators, with small settings.

The checks generate real-valued feature matrices. The two MLPs and the GCN
regressor (whose tags say it takes packed graphs, not 2-d arrays, so only the
checks that apply run) pass them all. The modular estimators take integer
pairs below p and the LSTM integer token indices: every check that fits on
real-valued features is an expected failure, with the reason below; the
checks that do not need such data (parameters, cloning, repr, tags, ...) run
and pass.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from grokkit import (
    GrokGCNRegressor,
    GrokLSTMClassifier,
    GrokMLPClassifier,
    GrokMLPRegressor,
    ModularMLPClassifier,
    ModularTransformer,
)

SMALL = dict(max_epochs=20, random_state=0, measures=None, measure_every=20)

#: Checks that fit on real-valued features (sklearn 1.9's list for a classifier).
_FITS_ON_FEATURES = (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_classifiers_one_label", "check_classifiers_classes",
    "check_estimators_partial_fit_n_features", "check_classifiers_train",
    "check_classifiers_regression_target", "check_supervised_y_2d", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
)
_PAIRS = "fits on real-valued features; X must be integer pairs (a, b) below p"
_TOKENS = "fits on real-valued features; X must be integer token indices below vocab_size"
EXPECTED = {
    "ModularMLPClassifier": dict.fromkeys(_FITS_ON_FEATURES, _PAIRS),
    "ModularTransformer": dict.fromkeys(_FITS_ON_FEATURES, _PAIRS),
    "GrokLSTMClassifier": {
        **dict.fromkeys(_FITS_ON_FEATURES, _TOKENS),
        "check_classifier_data_not_an_array": _TOKENS,
    },
}

ESTIMATORS = [
    GrokMLPClassifier(hidden_layer_sizes=(16,), lr=1e-2, batch_size=-1, **SMALL),
    GrokMLPRegressor(hidden_layer_sizes=(16,), lr=1e-2, batch_size=-1, **SMALL),
    ModularMLPClassifier(p=5, hidden_layer_sizes=(16,), **SMALL),
    ModularTransformer(p=5, d_model=8, n_heads=2, d_mlp=16, **SMALL),
    GrokLSTMClassifier(vocab_size=50, embedding_dim=4, hidden_size=4, num_layers=1, loss="cross_entropy",
                       **SMALL),
    GrokGCNRegressor(hidden_channels=(4,), **SMALL),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED.get(type(est).__name__, {}))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
