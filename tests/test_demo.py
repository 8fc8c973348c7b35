"""`python -m neuronlab demo` end to end, shortened to 2 epochs."""
import importlib.util

import pytest

from neuronlab.__main__ import main

MISSING = [name for name in ("sklearn", "matplotlib") if importlib.util.find_spec(name) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"the demo needs {' and '.join(MISSING)}")
def test_demo_trains_and_writes_the_figures(tmp_path, capsys):
    assert main(["demo", "--output-dir", str(tmp_path), "--epochs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("Test accuracy: ")[1].split("%")[0])
    assert accuracy > 80.0                      # two epochs are already far above chance
    table = out.split("digit  samples  correct  accuracy\n")[1].splitlines()[:10]
    assert [int(line.split()[0]) for line in table] == list(range(10))
    assert sum(int(line.split()[1]) for line in table) == 360   # 20% of 1797, rounded up
    for name in ("loss_curve.png", "confusion_matrix.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_demo_rejects_bad_epochs(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])
    assert "--epochs must be >= 1" in capsys.readouterr().err


def test_demo_explains_a_missing_dependency(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    if "sklearn" in MISSING:
        pytest.skip("scikit-learn is missing, so the demo stops at that first")
    with pytest.raises(SystemExit, match="needs matplotlib"):
        main(["demo", "--output-dir", str(tmp_path)])
    assert not list(tmp_path.iterdir())   # stopped before training or writing anything
