"""Resumable training: save(training_state=True), load, fit(..., resume=True).

Train A for 6 epochs; train B for 3, save it, load it as C and fit C for 3 more: A and C
must agree bit for bit (weights, optimizer state, generators, history).
"""
import dataclasses
import json
import zipfile

import numpy as np
import pytest

import neuronlab as nl
from neuronlab import persistence

X, Y = nl.datasets.blobs(150, n_classes=3, seed=0)
X_VAL, Y_VAL = nl.datasets.blobs(40, n_classes=3, seed=1)

OPTIMIZERS = {
    "sgd_momentum": lambda: nl.optim.SGD(0.05, momentum=0.9),
    "sgd_nesterov_step_decay": lambda: nl.optim.SGD(0.05, momentum=0.9, nesterov=True,
                                                    schedule=nl.optim.StepDecay(2, gamma=0.5)),
    "adam": lambda: nl.optim.Adam(0.01),
    "adamw_step_decay": lambda: nl.optim.Adam(0.01, weight_decay=1e-3, decoupled_weight_decay=True,
                                              schedule=nl.optim.StepDecay(step_size=2, gamma=0.5)),
    "rmsprop_exponential_decay": lambda: nl.optim.RMSProp(0.01, schedule=nl.optim.ExponentialDecay(0.8)),
    "adagrad_weight_decay": lambda: nl.optim.Adagrad(0.1, weight_decay=1e-3),
}


def make_net(dtype=np.float64, seed=3):
    """RReLU (random slopes), per-unit PReLU (slopes in the history), ReLU (dead units) and
    tanh (saturation): every kind of training state."""
    return nl.Network([nl.Layer(2, 8, "rrelu", seed=0, dtype=dtype),
                       nl.Layer(8, 6, "prelu", seed=1, dtype=dtype, alpha=np.full(6, 0.2)),
                       nl.Layer(6, 6, "relu", seed=2, dtype=dtype),
                       nl.Layer(6, 5, "tanh", seed=3, dtype=dtype),
                       nl.Layer(5, 3, "identity", seed=4, dtype=dtype)], seed=seed)


def fit(net, epochs, **kwargs):
    return net.fit(X, Y, epochs=epochs, batch_size=16, validation_data=(X_VAL, Y_VAL),
                   progress=False, **kwargs)


def assert_same_history(a, b):
    """Every field of two Histories equal (the PReLU slopes bit for bit)."""
    for field in dataclasses.fields(nl.History):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "prelu_alpha":
            assert len(x) == len(y)
            for epoch_x, epoch_y in zip(x, y, strict=True):
                for s, t in zip(epoch_x, epoch_y, strict=True):
                    assert (s is None and t is None) or (s.dtype == t.dtype and np.array_equal(s, t))
        else:
            assert x == y, field.name


def assert_same_training(a, b):
    """Weights, optimizer, history and generators of two networks equal, bit for bit."""
    assert a.theta.dtype == b.theta.dtype and np.array_equal(a.theta, b.theta)
    for (name, p, _), (_, q, _) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert np.array_equal(p, q), name
    assert type(a.optimizer) is type(b.optimizer)
    assert a.optimizer.params.keys() == b.optimizer.params.keys()
    assert (a.optimizer.epoch, a.optimizer.learning_rate) == (b.optimizer.epoch, b.optimizer.learning_rate)
    state_a, state_b = a.optimizer.state(a.theta), b.optimizer.state(b.theta)
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert state_a[key].dtype == state_b[key].dtype and np.array_equal(state_a[key], state_b[key]), key
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    for la, lb in zip(a.layers, b.layers, strict=True):
        if isinstance(la.activation, nl.activations.RReLU):
            assert la.activation.rng.bit_generator.state == lb.activation.rng.bit_generator.state
    assert_same_history(a.history, b.history)


# -- bit-identical resumption ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_save_load_resume_is_bit_identical_to_an_unstopped_run(tmp_path, optimizer, dtype):
    A = make_net(dtype)
    fit(A, 6, optimizer=OPTIMIZERS[optimizer]())
    B = make_net(dtype)
    fit(B, 3, optimizer=OPTIMIZERS[optimizer]())
    B.save(tmp_path / "b.npz")
    C = nl.Network.load(tmp_path / "b.npz")
    assert_same_training(B, C)                     # the file holds all of it
    history = fit(C, 3, resume=True)               # optimizer=None: the restored one
    assert history is C.history and history.epochs == 6
    assert_same_training(A, C)
    assert not np.array_equal(B.theta, C.theta)    # C did train on


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resume_without_the_training_state_is_not_identical(tmp_path, dtype):
    """The control: what the bit-identity above depends on. Without the training state the
    continued run starts a new SGD, a new history and new generators."""
    A = make_net(dtype)
    fit(A, 6, optimizer=nl.optim.SGD(0.05, momentum=0.9))
    B = make_net(dtype)
    fit(B, 3, optimizer=nl.optim.SGD(0.05, momentum=0.9))
    B.save(tmp_path / "b.npz", training_state=False)
    C = nl.Network.load(tmp_path / "b.npz")
    assert C.optimizer is None and C.history is None
    C.optimizer = nl.optim.SGD(0.05, momentum=0.9)   # same rule, but no velocity
    fit(C, 3, resume=True)
    assert C.history.epochs == 3 and not np.array_equal(A.theta, C.theta)


def test_resume_in_memory_equals_one_long_fit():
    A, B = make_net(), make_net()
    fit(A, 5, optimizer=nl.optim.Adam(0.01, schedule=nl.optim.StepDecay(2, 0.5)))
    fit(B, 2, optimizer=nl.optim.Adam(0.01, schedule=nl.optim.StepDecay(2, 0.5)))
    fit(B, 1, resume=True)
    fit(B, 2, resume=True)
    assert_same_training(A, B)
    assert B.history.learning_rate == [0.01, 0.01, 0.005, 0.005, 0.0025]


def test_partial_fit_after_load_continues(tmp_path):
    A, B = make_net(), make_net()
    for net in (A, B):
        net.fit(X, Y, epochs=2, optimizer=nl.optim.SGD(0.05, momentum=0.9), progress=False)
    A.partial_fit(X, Y)
    B.save(tmp_path / "b.npz")
    C = nl.Network.load(tmp_path / "b.npz")
    C.partial_fit(X, Y)
    assert_same_training(A, C)


def test_fit_without_resume_starts_afresh_after_load(tmp_path):
    net = make_net()
    fit(net, 2, optimizer="adam")
    net.save(tmp_path / "net.npz")
    loaded = nl.Network.load(tmp_path / "net.npz")
    assert isinstance(loaded.optimizer, nl.optim.Adam) and loaded.history.epochs == 2
    history = fit(loaded, 1)
    assert history.epochs == 1 and type(loaded.optimizer) is nl.optim.SGD
    assert loaded.optimizer.learning_rate == 0.01


def test_resume_on_a_network_never_trained_is_a_plain_fit():
    A, B = make_net(), make_net()
    fit(A, 2)
    fit(B, 2, resume=True)
    assert_same_training(A, B)


def test_resume_with_an_optimizer_given_uses_it_and_keeps_the_history():
    net = make_net()
    fit(net, 2, optimizer="adam")
    rmsprop = nl.optim.RMSProp(0.001)
    fit(net, 1, optimizer=rmsprop, resume=True)
    assert net.optimizer is rmsprop and net.history.epochs == 3


def test_resume_clears_how_the_last_run_ended():
    net = make_net()
    fit(net, 3, early_stopping=nl.EarlyStopping(patience=1, min_delta=10.0))
    assert net.history.stopped_early and net.history.best_epoch == 1   # epochs counted from 1
    fit(net, 2, resume=True)
    assert not net.history.stopped_early and not net.history.interrupted
    assert net.history.best_epoch is None and net.history.epochs == 4
    fit(net, 3, resume=True, early_stopping=nl.EarlyStopping(patience=1, min_delta=10.0))
    assert net.history.stopped_early and net.history.best_epoch == 5   # counted from the start, from 1
    assert net.history.epochs == 6


# -- what the file holds -----------------------------------------------------------------------
def test_the_file_holds_plain_arrays_and_json(tmp_path):
    net = make_net(np.float32)
    fit(net, 2, optimizer=nl.optim.Adam(0.01, schedule=nl.optim.ExponentialDecay(0.9)))
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as data:
        spec = json.loads(str(data["config"]))
        state = spec["training"]
        assert spec["version"] == persistence.FORMAT_VERSION == 2
        assert state["optimizer"]["name"] == "adam"
        assert state["optimizer"]["params"]["schedule"] == {"name": "ExponentialDecay",
                                                            "params": {"gamma": 0.9}}
        assert state["optimizer"]["state"]["m"] == {"__array__": "training.optimizer.state.m"}
        assert data["training.optimizer.state.m"].dtype == np.float32
        assert data["training.optimizer.state.t"].tolist() == [net.optimizer.state(net.theta)["t"][0]]
        assert state["history"]["loss"] == net.history.loss
        assert state["history"]["prelu_alpha"][1][1] == {"__array__": "training.history.prelu_alpha.1.1"}
        assert state["history"]["prelu_alpha"][1][0] is None
        assert state["rng"] == net.rng.bit_generator.state
        assert set(state["rrelu_rng"]) == {"layer0"}


def test_training_state_false_saves_the_network_alone(tmp_path):
    net = make_net()
    fit(net, 1)
    net.save(tmp_path / "net.npz", training_state=False)
    with np.load(tmp_path / "net.npz") as data:
        assert not any(name.startswith("training") for name in data.files)
        assert "training" not in json.loads(str(data["config"]))
    loaded = nl.Network.load(tmp_path / "net.npz")
    assert loaded.optimizer is None and loaded.history is None
    assert np.array_equal(loaded.theta, net.theta)


def test_an_untrained_network_keeps_its_shuffling_generator(tmp_path):
    net = make_net(seed=42)
    net.save(tmp_path / "net.npz")
    loaded = nl.Network.load(tmp_path / "net.npz")
    assert loaded.optimizer is None and loaded.history is None
    fit(net, 2)
    fit(loaded, 2)
    assert_same_training(net, loaded)


def test_unusual_history_values_round_trip(tmp_path):
    net = make_net()
    fit(net, 2)
    net.history.val_loss[0] = float("inf")
    net.history.loss[1] = float("nan")
    net.history.best_epoch = 1
    net.save(tmp_path / "net.npz")
    history = nl.Network.load(tmp_path / "net.npz").history
    assert history.val_loss[0] == float("inf") and np.isnan(history.loss[1])
    assert history.best_epoch == 1 and history.dead_relu == net.history.dead_relu


def test_version_1_files_still_load(tmp_path):
    """A file as neuronlab wrote it before the training state: version 1, weights and config."""
    net = make_net()
    fit(net, 1)
    spec = {**net.config(), "version": 1}
    path = tmp_path / "v1.npz"
    np.savez(path, **{name: p for name, p, _ in net.named_parameters()},
             config=np.array(json.dumps(spec)))
    loaded = nl.Network.load(path)
    assert np.array_equal(loaded.theta, net.theta) and loaded.config() == net.config()
    assert loaded.optimizer is None and loaded.history is None
    fit(loaded, 1, resume=True)          # starts afresh
    assert loaded.history.epochs == 1
    # a version-1 file has no training state: its arrays would be foreign
    np.savez(path, **{name: p for name, p, _ in net.named_parameters()},
             config=np.array(json.dumps(spec)), **{"training.optimizer.state.t": np.ones(1, np.int64)})
    with pytest.raises(ValueError, match=r"v1\.npz.*unexpected arrays"):
        nl.Network.load(path)


# -- optimizer state on its own ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip(name):
    opt = OPTIMIZERS[name]()
    theta, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, -1.0])
    opt.step([(theta, g)])
    opt.end_epoch()
    data = opt.state_dict(theta)
    json.dumps({k: v for k, v in data.items() if k != "state"})   # JSON apart from the arrays
    theta_copy = theta.copy()
    copy = nl.optim.from_state_dict(data, theta_copy)
    assert type(copy) is type(opt) and repr(copy) == repr(opt)
    for _ in range(3):
        opt.step([(theta, g)])
        copy.step([(theta_copy, g)])
        opt.end_epoch(), copy.end_epoch()
    assert np.array_equal(theta, theta_copy) and copy.learning_rate == opt.learning_rate


def test_set_state_checks_the_buffers():
    adam, theta = nl.optim.Adam(), np.zeros(3)
    with pytest.raises(ValueError, match=r"Adam keeps the buffers \['m', 't', 'v'\]"):
        adam.set_state(theta, {"m": np.zeros(3), "t": np.zeros(1, np.int64)})
    with pytest.raises(ValueError, match=r"'m' must be an array of shape \(3,\) and dtype float64"):
        adam.set_state(theta, {"m": np.zeros(2), "v": np.zeros(3), "t": np.zeros(1, np.int64)})
    with pytest.raises(ValueError, match=r"'t' must be an array of shape \(1,\) and dtype int64"):
        adam.set_state(theta, {"m": np.zeros(3), "v": np.zeros(3), "t": np.zeros(1)})


# -- what cannot be saved ----------------------------------------------------------------------
class Halving(nl.optim.SGD):
    """An optimizer of one's own: nl.optim.get cannot make it."""


@pytest.mark.parametrize("change, message", [
    (lambda net: setattr(net, "optimizer", Halving(0.1)), "the optimizer Halving cannot be rebuilt"),
    (lambda net: setattr(net, "optimizer", nl.optim.SGD(0.1, schedule=lambda eta, e: eta / (1 + e))),
     "the schedule <lambda> cannot be rebuilt from a file: only a StepDecay or an ExponentialDecay"),
    (lambda net: setattr(net, "rng", np.random.Generator(np.random.MT19937(0))),
     "the network's generator is a 'MT19937'; only the states of PCG64, PCG64DXSM, SFC64"),
    (lambda net: setattr(net.layers[0].activation, "rng", np.random.Generator(np.random.Philox(0))),
     "layer0's generator is a 'Philox'"),
    (lambda net: net.history.loss.append({1, 2}), r"training.history.loss.2 is a set"),
])
def test_what_cannot_be_saved_is_a_value_error_and_leaves_the_file(tmp_path, change, message):
    net = make_net()
    fit(net, 2)
    path = tmp_path / "net.npz"
    net.save(path)
    before = path.read_bytes()
    change(net)
    with pytest.raises(ValueError, match=f"cannot save the training state: {message}.*"
                                         r"training_state=False\) saves the network without it"):
        net.save(path)
    assert path.read_bytes() == before
    net.save(path, training_state=False)
    assert nl.Network.load(path).optimizer is None


def test_numbers_of_other_kinds_are_saved_as_json_numbers(tmp_path):
    from fractions import Fraction
    net = make_net()
    fit(net, 1)
    net.history.loss[0] = Fraction(1, 4)
    net.history.best_epoch = np.int64(0)
    net.save(tmp_path / "net.npz")
    history = nl.Network.load(tmp_path / "net.npz").history
    assert history.loss == [0.25] and type(history.best_epoch) is int


# -- damaged training states ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The arrays and the config of a trained network's file."""
    net = make_net()
    fit(net, 2, optimizer=nl.optim.Adam(0.01, schedule=nl.optim.StepDecay(1)))
    path = tmp_path_factory.mktemp("saved") / "net.npz"
    net.save(path)
    with np.load(path) as data:
        return dict(data)


def edited(saved, path, change=None, **arrays):
    """Write `saved` to `path` with change(training state) and arrays replaced (None:
    dropped; a function: made from `saved`)."""
    arrays = {k: v(saved) if callable(v) else v for k, v in arrays.items()}
    spec = json.loads(str(saved["config"]))
    if change is not None:
        change(spec["training"])
    entries = {**saved, **arrays, "config": np.array(json.dumps(spec))}
    np.savez(path, **{k: v for k, v in entries.items() if v is not None})
    return path


def put(*keys_and_value):
    """A change that sets state[k1][k2]... = value."""
    *keys, last, value = keys_and_value

    def change(state):
        for key in keys:
            state = state[key]
        state[last] = value
    return change


DAMAGE = {
    "unknown optimizer": (put("optimizer", "name", "lion"), {},
                          "cannot be restored: unknown optimizer 'lion'; available: adagrad, adam"),
    "unknown schedule": (put("optimizer", "params", "schedule", "name", "CosineDecay"), {},
                         "unknown schedule 'CosineDecay'; available: StepDecay, ExponentialDecay"),
    "bad optimizer params": (put("optimizer", "params", "beta1", 2.0), {}, "beta1 must be <= 1.0"),
    "negative epoch": (put("optimizer", "epoch", -1), {}, "epoch must be >= 0"),
    "no learning rate": (lambda s: s["optimizer"].pop("learning_rate"), {},
                         "has no entry 'learning_rate'"),
    "missing buffer": (None, {"training.optimizer.state.m": None},
                       "has no entry 'training.optimizer.state.m'"),
    "buffer of another shape": (None, {"training.optimizer.state.m": np.zeros(3)},
                                "the state buffer 'm' must be an array of shape"),
    "buffer of another dtype": (None, {"training.optimizer.state.v":
                                       lambda saved: saved["training.optimizer.state.v"].astype(np.float32)},
                                "the state buffer 'v' must be an array of shape"),
    "buffer missing from the json": (lambda s: s["optimizer"]["state"].pop("v"), {},
                                     r"unexpected arrays \['training.optimizer.state.v'\]"),
    "an extra array": (None, {"training.notes": np.ones(2)}, r"unexpected arrays \['training.notes'\]"),
    "unknown history field": (put("history", "notes", []), {}, "History has no field 'notes'"),
    "history field of the wrong kind": (put("history", "loss", "low"), {},
                                        "history.loss must be a list of numbers, None, lists and arrays"),
    "history flag of the wrong kind": (put("history", "interrupted", 0), {},
                                       "history.interrupted must be True or False, got 0"),
    "history value of the wrong kind": (put("history", "best_epoch", "first"), {},
                                        "history.best_epoch must be a number or None, got 'first'"),
    "prelu slopes missing": (lambda s: s["history"]["prelu_alpha"][0].pop(), {},
                             "history.prelu_alpha must hold, for each epoch, the PReLU slopes"),
    "prelu slopes of another shape": (None, {"training.history.prelu_alpha.1.1": np.ones(2)},
                                      "history.prelu_alpha must hold"),
    "no rrelu generator": (lambda s: s["rrelu_rng"].clear(), {},
                           r"RReLU generators for \[\], but the network's RReLU layers are \['layer0'\]"),
    "unsafe bit generator": (put("rng", "bit_generator", "MT19937"), {},
                             "a saved generator is a 'MT19937'; only the states of"),
    "generator state out of range": (put("rng", "state", "inc", -1), {}, "out of bounds"),
    "generator state not a mapping": (put("rrelu_rng", "layer0", [1, 2]), {}, "cannot be restored"),
    "no generator entry": (lambda s: s.pop("rng"), {}, "has no entry 'rng'"),
    "state not a mapping": (lambda s: s.clear() or s.update(optimizer=[1]), {}, "cannot be restored"),
}


@pytest.mark.parametrize("what", sorted(DAMAGE))
def test_a_damaged_training_state_is_a_value_error_naming_the_file(saved, tmp_path, what):
    change, arrays, message = DAMAGE[what]
    path = edited(saved, tmp_path / "damaged.npz", change, **arrays)
    with pytest.raises(ValueError, match=r"damaged\.npz is not a readable neuronlab network file: "
                                         r"its training state .*" + message):
        nl.Network.load(path)


def test_the_undamaged_file_loads(saved, tmp_path):
    loaded = nl.Network.load(edited(saved, tmp_path / "same.npz"))
    assert loaded.history.epochs == 2 and loaded.optimizer.epoch == 2


def test_the_file_version_is_checked(saved, tmp_path):
    for version in (0, 3, "2", True, None):
        path = edited(saved, tmp_path / "other.npz")
        spec = json.loads(str(saved["config"]))
        spec["version"] = version
        np.savez(path, **{**saved, "config": np.array(json.dumps(spec))})
        with pytest.raises(ValueError, match=r"format version .*; this neuronlab reads versions 1 and 2"):
            nl.Network.load(path)


def test_a_truncated_file_with_a_training_state_is_a_value_error(saved, tmp_path):
    good = edited(saved, tmp_path / "good.npz").read_bytes()
    names = zipfile.ZipFile(tmp_path / "good.npz").namelist()
    assert "training.optimizer.state.m.npy" in names
    for cut in range(0, len(good), max(1, len(good) // 97)):
        (tmp_path / "cut.npz").write_bytes(good[:cut])
        with pytest.raises(ValueError, match=r"cut\.npz"):
            nl.Network.load(tmp_path / "cut.npz")
