"""Sphinx configuration for the neuronlab textbook.

The site must work with no network: MathJax is copied into the built site by
``sphinx-mathjax-offline`` and the theme ships its own fonts and scripts.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

project = "neuronlab"
author = "the neuronlab authors"
copyright = "2026, the neuronlab authors"

import neuronlab  # noqa: E402  (the path above must be set first for the extension)

release = version = neuronlab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # its package directory has hyphens; copies MathJax 3 into _static
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "neuronlab_docs",
]

root_doc = "index"
exclude_patterns = ["_build", "locale"]
language = "en"
nitpicky = False

# -- two languages, one source ---------------------------------------------------------
# The Chinese edition is this same source built with ``-D language=zh_CN``: Sphinx swaps
# each paragraph, title and table cell for its translation in locale/zh_CN/LC_MESSAGES
# (one .po catalog per page). Formulas, code and figures are not messages, so they cannot
# differ between the editions. ``make translations`` refreshes the catalogs after an
# English edit; tests/test_i18n.py fails while any message is untranslated or fuzzy.
locale_dirs = ["locale/"]
gettext_compact = False      # one catalog per page: a translator works on one page at a time
gettext_uuid = False
gettext_location = False     # no line numbers: moving a paragraph does not touch the catalogs
gettext_last_translator = "neuronlab"
gettext_additional_targets = []   # literal blocks and math stay untranslated


def _glossary_dictionary() -> str:
    """A jieba dictionary of the glossary's Chinese terms, for the Chinese search index.

    jieba does not know 激活函数 or 交叉熵 as words and would index only their parts (and
    drop the one-character 熵); with this list a search for a whole term finds its pages.
    """
    import re

    with open(os.path.join(HERE, "glossary.rst"), encoding="utf-8") as f:
        terms = re.findall(r"^      ([\u4e00-\u9fff][^\s(（.,，]*)", f.read(), re.MULTILINE)
    path = os.path.join(HERE, "_build", "jieba-glossary.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{term} 1000 n\n" for term in sorted(set(terms)))
    return path


html_search_options = {"dict": _glossary_dictionary()}   # read by the Chinese search only

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "neuronlab"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_theme_options = {
    "navigation_with_keys": False,
    "navbar_end": ["language-switch", "theme-switcher", "navbar-icon-links"],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_end": [],
}
html_show_sourcelink = False
html_copy_source = False

# -- autodoc / napoleon ----------------------------------------------------------------
autodoc_member_order = "bysource"
# A property without a docstring (ELU.smooth) would otherwise "inherit" the docstring
# of the base class's plain bool attribute, which is bool's own.
autodoc_inherit_docstrings = False
autodoc_typehints = "description"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True

# -- figures: drawn by the compiled kernels at build time ------------------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("svg", 100)]
plot_rcparams = {"figure.figsize": (6.4, 3.2), "font.size": 9, "svg.hashsalt": "neuronlab"}
plot_apply_rcparams = True

# -- doctest ---------------------------------------------------------------------------
# The docstrings' examples are written to run inside their module (pytest
# --doctest-modules); ``from neuronlab.activations import *`` gives them the same names.
doctest_global_setup = """
import numpy as np
import neuronlab as nl
from neuronlab.activations import *
"""

# -- tutorials: tutorials/*.py run at build time and become a gallery ------------------
# The scripts also save their figures to $NEURONLAB_FIGURES; during the build those
# copies go to the build directory (the gallery shows the figures it captures itself).
os.environ.setdefault("NEURONLAB_FIGURES", os.path.join(HERE, "_build", "tutorial-figures"))
os.makedirs(os.environ["NEURONLAB_FIGURES"], exist_ok=True)
sphinx_gallery_conf = {
    "examples_dirs": "../tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"/\d\d_",       # run every numbered script, not just plot_*
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    # Before and after each tutorial: matplotlib's defaults, and neuronlab's registries as
    # imported (tutorial 14 registers an activation; the pages must not see it).
    "reset_modules": ("matplotlib", "gallery_isolation.restore_registries"),
    "reset_modules_order": "both",
    # The computation-times page loads DataTables from a CDN: the site must work offline.
    "write_computation_times": False,
}
