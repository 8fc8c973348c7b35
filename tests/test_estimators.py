"""neuronlab.estimators: the scikit-learn estimators in front of a Network."""
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

import neuronlab as nl

sklearn = pytest.importorskip("sklearn", reason="neuronlab.estimators needs scikit-learn (optional)")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from neuronlab.estimators import MLPClassifier, MLPRegressor  # noqa: E402

# Small networks with few epochs, so that scikit-learn's checks stay fast.
SMALL = {"hidden_layer_sizes": (16,), "max_iter": 50, "learning_rate_init": 0.01, "random_state": 0}


@pytest.mark.parametrize("estimator", [MLPClassifier(**SMALL), MLPRegressor(**SMALL)],
                         ids=["MLPClassifier", "MLPRegressor"])
def test_check_estimator(estimator):
    results = check_estimator(estimator, on_fail=None, on_skip=None)
    failed = {r["check_name"]: r["exception"] for r in results if r["status"] == "failed"}
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) > 40


def test_import_neuronlab_does_not_import_scikit_learn():
    code = ("import sys, neuronlab as nl; assert 'sklearn' not in sys.modules; "
            "nl.estimators.MLPClassifier; assert 'sklearn' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_scikit_learn_making_an_estimator_says_what_to_install():
    code = ("import sys; sys.modules['sklearn'] = None; import neuronlab.estimators as e\n"
            "try:\n    e.MLPClassifier()\nexcept ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "pip install scikit-learn" in out and "MLPClassifier" in out


def test_classifier_attributes_and_probabilities():
    X, y = nl.datasets.blobs(200, n_classes=3, seed=0)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), activation="tanh", max_iter=30, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert clf.n_features_in_ == 2 and clf.n_iter_ == 30 == len(clf.loss_curve_)
    assert clf.loss_ == clf.loss_curve_[-1] == clf.network_.history.loss[-1]
    assert [layer.n_out for layer in clf.network_.layers] == [16, 8, 3]
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))
    # scikit-learn's alpha: alpha / (2 m) ||W||^2 per batch of m samples
    assert clf.network_.l2 == pytest.approx(0.0001 / 32)


def test_string_labels_come_back_as_labels():
    X, y = nl.datasets.blobs(150, n_classes=3, seed=1)
    names = np.array(["cat", "dog", "emu"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, learning_rate_init=0.01, random_state=0)
    clf.fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.score(X, names) > 0.9


def test_one_class_predicts_it():
    X = np.random.default_rng(0).normal(size=(10, 3))
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, ["a"] * 10)
    np.testing.assert_array_equal(clf.predict(X), ["a"] * 10)
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((10, 1)))


def test_same_random_state_same_predictions_bit_for_bit():
    X, y = nl.datasets.two_moons(200, seed=0)
    make = lambda seed: MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=seed)  # noqa: E731
    a, b, c = (make(s).fit(X, y) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    r1, r2 = (MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=7).fit(X, X[:, 0]) for _ in range(2))
    np.testing.assert_array_equal(r1.predict(X), r2.predict(X))


def test_clone_and_pickle():
    X, y = nl.datasets.blobs(100, n_classes=2, seed=0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), activation="elu", max_iter=5, random_state=0)
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    assert not hasattr(twin, "network_")
    clf.fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.network_.history.loss == clf.network_.history.loss


def test_partial_fit():
    X, y = nl.datasets.blobs(120, n_classes=3, seed=0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    clf.partial_fit(X[60:], y[60:])
    assert clf.n_iter_ == 2 and len(clf.classes_) == 3
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y + 5)
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        reg.partial_fit(X, X @ [1.0, -2.0])
    assert reg.n_iter_ == 3 and reg.predict(X).shape == (120,)


def test_regressor_shapes_and_early_stopping():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    Y = np.column_stack([X @ [1.0, 2.0, -1.0], np.sin(X[:, 0])])
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01,
                       batch_size="auto", random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.score(X, Y) > 0.9
    assert reg.predict(X[:5]).dtype == np.float64
    one = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, Y[:, :1])
    assert one.predict(X).shape == (300,)          # one output: 1-d, as in scikit-learn
    early = MLPRegressor(hidden_layer_sizes=(8,), max_iter=500, early_stopping=True, n_iter_no_change=3,
                         learning_rate_init=0.05, random_state=0).fit(X, Y[:, 0])
    assert early.n_iter_ < 500 and early.network_.history.stopped_early


def test_bad_parameters_are_reported_by_fit():
    X, y = nl.datasets.blobs(30, n_classes=2, seed=0)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes\[1\] must be >= 1, got 0"):
        MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(TypeError, match="hidden_layer_sizes must be a tuple of layer sizes"):
        MLPClassifier(hidden_layer_sizes="4").fit(X, y)
    with pytest.raises(ValueError, match="batch_size must be a positive integer or 'auto'"):
        MLPClassifier(batch_size="big").fit(X, y)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        MLPClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        MLPRegressor(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate_init must be > 0"):
        MLPRegressor(learning_rate_init=0).fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction must be < 1"):
        MLPRegressor(early_stopping=True, validation_fraction=1.0).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation"):
        MLPClassifier(activation="relu6").fit(X, y)


def test_pipeline_with_standard_scaler():
    X, y = nl.datasets.blobs(200, n_classes=3, seed=2)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=0))
    pipe.fit(X * 100 + 50, y)
    assert pipe.score(X * 100 + 50, y) > 0.9


def test_grid_search_over_activations():
    X, y = nl.datasets.two_moons(200, noise=0.1, seed=0)
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01,
                                        random_state=0),
                          {"activation": ["relu", "tanh"]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["activation"] in ("relu", "tanh")
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_score_ > 0.8


def test_cross_val_score_on_the_digits(capsys):
    X, y = nl.datasets.load_digits()
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    start = time.perf_counter()
    scores = cross_val_score(clf, X, y, cv=5)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\ncross_val_score, 5 folds of the digits: {np.round(scores, 3)}, mean {scores.mean():.3f}, "
              f"{seconds:.2f} s")
    assert scores.shape == (5,) and scores.mean() > 0.85
