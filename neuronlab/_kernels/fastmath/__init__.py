"""The vector maths under the kernels (README.md beside this file); ``_fastmath`` runs it over arrays for the tests."""
