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
# The derivations on the pages, step by step, and the course formulas they call wrong
# ----------------------------------------------------------------------------------------
def _sympy_identities():
    sp = pytest.importorskip("sympy")
    x, beta, alpha, lam = sp.symbols("x beta alpha lambda", real=True)
    neg = sp.Symbol("neg", negative=True)
    e = sp.exp
    sigma = lambda t: 1 / (1 + e(-t))  # noqa: E731
    sp_ = sp.log(1 + e(x))
    g = sp.tanh(sp_)
    Phi = (1 + sp.erf(x / sp.sqrt(2))) / 2
    phi = e(-x**2 / 2) / sp.sqrt(2 * sp.pi)
    k, c = sp.Rational(44715, 10**6), sp.sqrt(2 / sp.pi)
    u = c * (x + k * x**3)
    swish = x * sigma(beta * x)
    d = lambda f: sp.diff(f, x)  # noqa: E731
    true = {  # page: (left side, right side) of each step shown
        "sigmoid: first step": (d(sigma(x)), e(-x) / (1 + e(-x))**2),
        "sigmoid: y(1-y)": (d(sigma(x)), sigma(x) * (1 - sigma(x))),
        "sigmoid: 1-sigma": (1 - sigma(x), e(-x) / (1 + e(-x))),
        "sigmoid: second derivative": (d(d(sigma(x))), -d(sigma(x)) * sp.tanh(x / 2)),
        "hard_sigmoid: Taylor slope": (d(sigma(x)).subs(x, 0), sp.Rational(1, 4)),
        "tanh: 2 sigma(2x) - 1": (sp.tanh(x), 2 * sigma(2 * x) - 1),
        "tanh: 1 - tanh^2": (d(sp.tanh(x)), 1 - sp.tanh(x)**2),
        "tanh: v^2 - u^2 = 4": ((e(x) + e(-x))**2 - (e(x) - e(-x))**2, 4),
        "tanh: 4 sigma'(2x)": (d(sp.tanh(x)), 4 * d(sigma(x)).subs(x, 2 * x)),
        "softsign: x > 0": (d(x / (1 + x)), 1 / (1 + x)**2),
        "softsign: x < 0": (d(x / (1 - x)), 1 / (1 - x)**2),
        "softplus: sigma": (d(sp_), sigma(x)),
        "elu: f + alpha": (d(alpha * (e(x) - 1)), alpha * (e(x) - 1) + alpha),
        "selu: f + lambda alpha": (d(lam * alpha * (e(x) - 1)),
                                   lam * alpha * (e(x) - 1) + lam * alpha),
        "prelu: df/dalpha (x<0)": (sp.diff(alpha * x, alpha), x),
        "swish: product rule": (d(swish), sigma(beta * x) + beta * x * sigma(beta * x)
                                * (1 - sigma(beta * x))),
        "swish: regrouped": (d(swish), beta * swish + sigma(beta * x) * (1 - beta * swish)),
        "swish: slides, beta = 1": (d(x * sigma(x)), x * sigma(x) + sigma(x) * (1 - x * sigma(x))),
        "gelu: Phi' = phi": (d(Phi), phi),
        "gelu: f'": (d(x * Phi), Phi + x * phi),
        "gelu: f''": (d(d(x * Phi)), phi * (2 - x**2)),
        "gelu: tanh form f'": (d(x * (1 + sp.tanh(u)) / 2), (1 + sp.tanh(u)) / 2
                               + x / 2 * (1 - sp.tanh(u)**2) * c * (1 + 3 * k * x**2)),
        "gelu: (1 + tanh u)/2 = sigma(2u)": ((1 + sp.tanh(x)) / 2, sigma(2 * x)),
        "gelu: slope of the tanh form at 0": (d((1 + sp.tanh(u)) / 2).subs(x, 0), phi.subs(x, 0)),
        "mish: g' chain rule": (d(x * g), g + x * sigma(x) * (1 - g**2)),
        "mish: tanh(softplus)": (g, ((1 + e(x))**2 - 1) / ((1 + e(x))**2 + 1)),
        "mish: course closed form": (d(x * g), e(x) * (4 * (x + 1) + 4 * e(2 * x) + e(3 * x)
                                     + e(x) * (4 * x + 6)) / (2 * e(x) + e(2 * x) + 2)**2),
    }
    wrong = {  # what the course material says, and the pages call wrong
        "sigmoid: slides' first step": (d(sigma(x)), -e(-x) / (1 + e(-x))**2),
        "softsign: sgn in f' (x < 0)": (d(x / (1 - x)).subs(x, neg), sp.sign(neg) / (1 - neg)**2),
        "swish: extra beta x": (d(swish), beta * swish + beta * x * sigma(beta * x)
                                * (1 - beta * swish)),
        "elu: f labelled as f'": (d(alpha * (e(x) - 1)), alpha * (e(x) - 1)),
    }
    return sp, true, wrong


def _is_zero(sp, expr):
    """Exactly zero: over a common denominator the numerator expands to 0.

    Written with exponentials (tanh, sigma, softplus all are), every identity above is
    one between rational functions of exp(x), x and the parameters.
    """
    expanded = sp.expand(expr.rewrite(sp.exp), power_exp=True)
    return sp.expand(sp.numer(sp.together(expanded))) == 0


def test_derivation_steps_hold_in_sympy():
    sp, true, _ = _sympy_identities()
    failed = [name for name, (lhs, rhs) in true.items() if not _is_zero(sp, lhs - rhs)]
    assert not failed, f"steps on the pages that SymPy does not confirm: {failed}"


def test_course_formulas_called_wrong_are_wrong():
    # A witness point where the two sides differ proves the course formula wrong.
    _, _, wrong = _sympy_identities()
    for name, (lhs, rhs) in wrong.items():
        point = {sym: {"neg": -0.7, "beta": 1.3, "alpha": 0.9}.get(sym.name, -0.7)
                 for sym in (lhs - rhs).free_symbols}
        gap = float((lhs - rhs).subs(point).evalf())
        assert abs(gap) > 1e-3, f"{name}: the course formula agrees at {point}"


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
