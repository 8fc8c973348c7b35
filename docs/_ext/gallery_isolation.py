"""Every tutorial starts from neuronlab's registries as imported, as in a fresh
``python tutorials/NN_name.py``.

sphinx-gallery runs the tutorials one after the other in the Sphinx process. A tutorial
that registers a class of its own (14 registers its bent identity to load a saved
network) would otherwise leave it in the registry for the later tutorials and for the
pages read after them: the activation table, generated from the registry, would list
it and link to a page that does not exist.
"""
from __future__ import annotations

import neuronlab as nl

# Read when sphinx-gallery reads its configuration, before any tutorial runs.
_BUILT_IN = [(family, set(family.available())) for family in (nl.activations, nl.losses)]


def restore_registries(gallery_conf, fname, when):
    """sphinx-gallery's ``reset_modules`` hook: called before and after each tutorial."""
    for family, names in _BUILT_IN:
        for name in set(family.available()) - names:
            family.unregister(name)
