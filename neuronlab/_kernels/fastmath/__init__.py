"""The vector maths under the kernels (README.md beside this file); ``_fastmath`` runs it over arrays for the tests."""
from pathlib import Path

from neuronlab._kernels import LEVEL

# _fastmath is built once per CPU level, like the kernels (see neuronlab/_kernels/__init__.py)
__path__.insert(0, str(Path(__file__).resolve().parent.parent / "levels" / LEVEL / "fastmath"))
