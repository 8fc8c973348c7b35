"""Every tutorial starts from neuronlab's registries as imported, as in a fresh
``python tutorials/NN_name.py``.

sphinx-gallery runs the tutorials one after the other in the Sphinx process. A tutorial
that registers a class of its own (14 registers its bent identity to load a saved
network) would otherwise leave it in the registry for the later tutorials and for the
pages read after them: the activation table, generated from the registry, would list
it and link to a page that does not exist. The registries have no public way to forget
a name, so this restores their dictionaries.
"""
from __future__ import annotations

import neuronlab as nl

# Imported when sphinx-gallery reads its configuration, before any tutorial runs.
_SAVED = [(registry, dict(registry)) for registry in
          (nl.activations._REGISTRY, nl.activations._ALIASES, nl.losses._REGISTRY)]


def restore_registries(gallery_conf, fname, when):
    """sphinx-gallery's ``reset_modules`` hook: called before and after each tutorial."""
    for registry, saved in _SAVED:
        registry.clear()
        registry.update(saved)
