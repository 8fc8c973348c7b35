"""The textbook: every activation has a page, every kernel marker exists, and the built
site renders its formulas offline in a real browser.

The first tests read the sources only. The others need the site built by ``make docs``
(docs/_build/html) and skip, saying so, when it is not there; the browser tests also
need Debian's chromium.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import neuronlab as nl

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
PXD = ROOT / "neuronlab" / "_kernels" / "activation.pxd"

sys.path.insert(0, str(DOCS / "_ext"))
import activation_pages  # noqa: E402  (lives in docs/_ext, found through the line above)


def rst_sources():
    return sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)


# ----------------------------------------------------------------------------------------
# Consistency of the sources (no build needed)
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", nl.activations.available())
def test_every_registered_activation_has_a_page(name):
    page = DOCS / "activations" / f"{name}.rst"
    assert page.exists(), f"no page {page.relative_to(ROOT)} for activation {name!r}"
    text = page.read_text(encoding="utf-8")
    assert re.search(rf"^\.\. activation-facts:: {name}$", text, re.MULTILINE)
    assert re.search(rf"^\.\. activation-kernel:: {name}$", text, re.MULTILINE)
    index = (DOCS / "activations" / "index.rst").read_text(encoding="utf-8")
    assert re.search(rf"^   {name}$", index, re.MULTILINE), f"{name} is not in the toctree"


@pytest.mark.parametrize("name", [n for n in nl.activations.available()
                                  if nl.activations.get(n).has_output_derivative])
def test_output_form_of_the_derivative_is_explained(name):
    text = (DOCS / "activations" / f"{name}.rst").read_text(encoding="utf-8")
    assert "The derivative from the output" in text, (
        f"{name} has backward_from_output but its page does not explain it")


def test_every_page_is_a_registered_activation():
    pages = {p.stem for p in (DOCS / "activations").glob("*.rst")} - {"index"}
    assert pages == set(nl.activations.available())


def test_gelu_page_covers_its_three_forms_and_swish_names_silu():
    gelu = (DOCS / "activations" / "gelu.rst").read_text(encoding="utf-8")
    for form in ("tanh", "sigmoid"):
        assert f":params: approximate={form}" in gelu
    assert "silu" in (DOCS / "activations" / "swish.rst").read_text(encoding="utf-8")


def test_kernel_blocks_are_found():
    blocks = activation_pages.kernel_blocks()
    pxd = PXD.read_text(encoding="utf-8")
    assert len(blocks) == pxd.count("\n# </"), "a marker pair was not matched"
    for name, body in blocks.items():
        assert f"{name}_f(" in body, f"block {name} does not define {name}_f"


def test_every_literalinclude_marker_exists():
    pxd = PXD.read_text(encoding="utf-8").splitlines()
    named = set()
    # markers written in the .rst sources ...
    for page in rst_sources():
        named |= set(re.findall(r":(?:start-after|end-before): (# </?\w+>)",
                                page.read_text(encoding="utf-8")))
    # ... and those the activation-kernel directive emits, for every variant
    for name, params in activation_pages.variants():
        act = nl.activations.get(name, **params)
        for marker in activation_pages.kernel_markers(act.kernel):
            named |= {f"# <{marker}>", f"# </{marker}>"}
    assert named, "no marker found at all"
    missing = sorted(m for m in named if m not in pxd)
    assert not missing, f"markers named in the docs but not in activation.pxd: {missing}"


def test_kernel_markers_follow_calls():
    # gelu_tanh calls sigmoid_f/sigmoid_df, selu calls elu_*: the page must show both.
    assert activation_pages.kernel_markers("gelu_tanh") == ["gelu_tanh", "sigmoid"]
    assert activation_pages.kernel_markers("selu") == ["selu", "elu"]
    assert activation_pages.kernel_markers("relu") == ["relu"]


def test_parse_params():
    assert activation_pages.parse_params("approximate=tanh, alpha=0.5") == {
        "approximate": "tanh", "alpha": 0.5}
    assert activation_pages.parse_params(None) == {}


# ----------------------------------------------------------------------------------------
# The built site
# ----------------------------------------------------------------------------------------
needs_build = pytest.mark.skipif(
    not (HTML / "index.html").exists(),
    reason="docs/_build/html does not exist: run `make docs` to build the textbook")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (`apt-get install chromium`; `make docs` does it as root)")


def built_pages():
    return sorted(HTML.rglob("*.html"))


@needs_build
def test_built_site_has_every_page():
    for name in nl.activations.available():
        assert (HTML / "activations" / f"{name}.html").exists()
    for page in ("index", "api", "glossary", "search", "activations/index"):
        assert (HTML / f"{page}.html").exists()


@needs_build
def test_api_reference_documents_every_public_name():
    page = (HTML / "api.html").read_text(encoding="utf-8")
    missing = [name for name in nl.activations.__all__
               if f'id="neuronlab.activations.{name}"' not in page]
    assert not missing, f"public names missing from the API reference: {missing}"


# <script src="https://..."> or <link href="//cdn..."> would need the network.
EXTERNAL = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)


@needs_build
def test_no_external_scripts_or_stylesheets():
    offenders = {}
    for page in built_pages():
        hits = EXTERNAL.findall(page.read_text(encoding="utf-8"))
        if hits:
            offenders[str(page.relative_to(HTML))] = hits
    assert not offenders, f"pages loading from the network: {offenders}"


@needs_build
def test_mathjax_is_served_from_the_site():
    page = (HTML / "activations" / "sigmoid.html").read_text(encoding="utf-8")
    srcs = re.findall(r"<script[^>]*src=\"([^\"]*mathjax[^\"]*)\"", page, re.IGNORECASE)
    assert srcs, "no MathJax script on the sigmoid page"
    for src in srcs:
        local = (HTML / "activations" / src.split("?")[0]).resolve()
        assert local.is_file(), f"MathJax script {src} is not in the built site"


@needs_build
def test_overview_table_and_figures_are_generated():
    page = (HTML / "activations" / "index.html").read_text(encoding="utf-8")
    table = re.search(r"<table[^>]*activation-table.*?</table>", page, re.DOTALL).group(0)
    rows = re.findall(r"<tr", table)
    assert len(rows) == 1 + len(activation_pages.variants())
    for name in nl.activations.available():
        sub = (HTML / "activations" / f"{name}.html").read_text(encoding="utf-8")
        assert re.search(r"<img[^>]+\.svg", sub), f"{name} page has no figure"
        kernel = nl.activations.get(name).kernel
        assert f">{kernel}_f<" in sub, f"{name} page does not show the kernel {kernel}_f"


def dump_dom(url: str) -> str:
    """The DOM of `url` after its scripts ran, in headless chromium with no network."""
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-dev-shm-usage", "--allow-file-access-from-files",
        # No network: every connection goes to a closed local port, every name fails.
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=15000", "--run-all-compositor-stages-before-draw",
        "--dump-dom", url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"chromium failed: {done.stderr[-2000:]}"
    return done.stdout


@needs_build
@needs_browser
@pytest.mark.parametrize("page", ["activations/sigmoid.html", "activations/gelu.html",
                                  "activations/index.html"])
def test_formulas_are_rendered_by_mathjax_offline(page):
    raw = (HTML / page).read_text(encoding="utf-8")
    n_math = len(re.findall(r"class=\"math notranslate nohighlight\"", raw))
    assert n_math > 0
    dom = dump_dom((HTML / page).as_uri())
    n_rendered = dom.count("<mjx-container")
    assert n_rendered >= n_math, f"{n_rendered} of {n_math} formulas rendered by MathJax"
    # Once typeset, the TeX source is gone from the page: no delimiters are left.
    for leftover in (r"\(", r"\[", r"\frac"):
        assert leftover not in re.sub(r"<script.*?</script>", "", dom, flags=re.DOTALL), (
            f"raw TeX {leftover!r} left on {page}")


@needs_build
@needs_browser
def test_search_finds_a_page_offline():
    dom = dump_dom((HTML / "search.html").as_uri() + "?q=saturation")
    assert re.search(r"href=\"[^\"]*activations/sigmoid\.html", dom), (
        "the search page found no result for 'saturation'")
