"""Print the requirements of one optional-dependency group of pyproject.toml.

``make docs`` installs the ``docs`` extra with this instead of
``pip install -e ".[docs]"``, which would compile neuronlab's kernels once more.

    python docs/extra_requirements.py docs > requirements.txt
"""
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the copy that pip vendors
    from pip._vendor import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

if __name__ == "__main__":
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    print("\n".join(project["optional-dependencies"][sys.argv[1]]))
