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

import numpy as np
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
@pytest.mark.parametrize("name", activation_pages.elementwise_names())
def test_every_elementwise_activation_has_a_page(name):
    page = DOCS / "activations" / f"{name}.rst"
    assert page.exists(), f"no page {page.relative_to(ROOT)} for activation {name!r}"
    text = page.read_text(encoding="utf-8")
    assert re.search(rf"^\.\. activation-facts:: {name}$", text, re.MULTILINE)
    assert re.search(rf"^\.\. activation-kernel:: {name}$", text, re.MULTILINE)
    index = (DOCS / "activations" / "index.rst").read_text(encoding="utf-8")
    assert re.search(rf"^   {name}$", index, re.MULTILINE), f"{name} is not in the toctree"


@pytest.mark.parametrize("name", [n for n in activation_pages.elementwise_names()
                                  if nl.activations.get(n).has_output_derivative])
def test_output_form_of_the_derivative_is_explained(name):
    text = (DOCS / "activations" / f"{name}.rst").read_text(encoding="utf-8")
    assert "The derivative from the output" in text, (
        f"{name} has backward_from_output but its page does not explain it")


def test_every_page_is_a_registered_activation():
    pages = {p.stem for p in (DOCS / "activations").glob("*.rst")} - {"index"}
    assert pages == set(activation_pages.elementwise_names())


def test_every_activation_is_explained_somewhere():
    # Elementwise ones have a page; the vector ones a labelled section of the softmax chapter.
    assert activation_pages.vector_names(), "softmax should be registered as an activation"
    assert (set(activation_pages.elementwise_names()) | set(activation_pages.vector_names())
            == set(nl.activations.available()))


@pytest.mark.parametrize("name", activation_pages.vector_names())
def test_every_vector_activation_has_a_section(name):
    text = (DOCS / "softmax.rst").read_text(encoding="utf-8")
    assert re.search(rf"^\.\. _activation-{name}:$", text, re.MULTILINE), (
        f"docs/softmax.rst has no section labelled activation-{name}")


@pytest.mark.parametrize("name", nl.losses.available())
def test_every_loss_has_a_section(name):
    text = (DOCS / "losses.rst").read_text(encoding="utf-8")
    assert re.search(rf"^\.\. _loss-{name}:$", text, re.MULTILINE), (
        f"docs/losses.rst has no section labelled loss-{name}")
    assert re.search(rf"^\.\. loss-facts:: {name}$", text, re.MULTILINE), (
        f"the section of {name} does not show its formulas (.. loss-facts:: {name})")


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


def test_kernel_directive_markers_exist():
    # The markers the activation-kernel directive emits, for every variant.
    pxd = PXD.read_text(encoding="utf-8").splitlines()
    named = set()
    for name, params in activation_pages.variants():
        act = nl.activations.get(name, **params)
        for marker in activation_pages.kernel_markers(act.kernel):
            named |= {f"# <{marker}>", f"# </{marker}>"}
    assert named, "no marker found at all"
    missing = sorted(m for m in named if m not in pxd)
    assert not missing, f"markers named in the docs but not in activation.pxd: {missing}"


def literalincludes():
    """(page, included file, {option: value}) for every literalinclude in the sources."""
    found = []
    for page in rst_sources():
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)\.\. literalinclude:: (\S+)\s*$", line)
            if not m:
                continue
            options = {}
            for option in lines[i + 1:]:
                o = re.match(r"^\s+:([\w-]+):\s*(.*)$", option)
                if not o:
                    break
                options[o.group(1)] = o.group(2).strip()
            path = m.group(2)
            # Sphinx: "/" is the source directory (docs/), otherwise relative to the page.
            target = DOCS / path[1:] if path.startswith("/") else page.parent / path
            found.append((page.relative_to(ROOT), target.resolve(), options))
    return found


def _pyobject_exists(source: str, dotted: str) -> bool:
    import ast

    body = ast.parse(source).body
    for part in dotted.split("."):
        match = [n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == part]
        if not match:
            return False
        body = match[0].body
    return True


def test_every_literalinclude_in_the_sources_resolves():
    includes = literalincludes()
    assert len(includes) >= 4, "the losses and back-propagation chapters include kernel code"
    problems = []
    for page, target, options in includes:
        if not target.is_file():
            problems.append(f"{page}: {target} does not exist")
            continue
        text = target.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines()]
        after, before = options.get("start-after"), options.get("end-before")
        for marker in filter(None, (after, before)):
            if lines.count(marker) != 1:
                problems.append(f"{page}: {marker!r} is on {lines.count(marker)} lines of "
                                f"{target.name}, not exactly one")
        if after and before and after in lines and before in lines:
            if lines.index(after) >= lines.index(before):
                problems.append(f"{page}: {after!r} does not come before {before!r}")
        if "pyobject" in options and not _pyobject_exists(text, options["pyobject"]):
            problems.append(f"{page}: no {options['pyobject']} in {target.name}")
    assert not problems, "\n".join(problems)


# A path in backquotes with at least one folder, to a source or text file.
NAMED_PATH = re.compile(r"`((?:\.\./)*(?:[\w.-]+/)+[\w.-]+\.(?:h|c|py|pyx|pxd|pyi|tp|rst|md|toml))`")


def test_every_path_named_in_the_prose_exists():
    """Files named in the textbook and the READMEs, after files moved (the vector maths went
    to neuronlab/_kernels/fastmath/). A path counts from the repository, from the folder of
    the page that names it, or from neuronlab/_kernels/, as the kernels chapter says."""
    def exists(page: Path, path: str) -> bool:
        return any((base / path).is_file() for base in (ROOT, page.parent, ROOT / "neuronlab" / "_kernels"))

    pages = [*rst_sources(), ROOT / "README.md", *sorted((ROOT / "neuronlab").rglob("README.md"))]
    named = [(page, m.group(1)) for page in pages for m in NAMED_PATH.finditer(page.read_text(encoding="utf-8"))]
    assert len(named) > 20
    missing = [f"{page.relative_to(ROOT)}: {path}" for page, path in named if not exists(page, path)]
    assert not missing, "named but not there:\n" + "\n".join(missing)


def test_kernels_chapter_points_to_the_vector_maths_folder():
    text = (DOCS / "kernels.rst").read_text(encoding="utf-8")
    assert "neuronlab/_kernels/fastmath/README.md" in text
    assert (ROOT / "neuronlab" / "_kernels" / "fastmath" / "README.md").is_file()


def test_fused_kernel_markers_surround_the_code_they_name():
    # The loss chapter explains these three functions; the markers must stay around them.
    blocks = activation_pages.kernel_blocks(ROOT / "neuronlab" / "_kernels" / "_losses.pyx")
    for name in ("sce_loss", "sce_gradient", "sce_block"):
        assert f"_{name}(" in blocks[name].split("\n", 1)[0], f"block {name} moved"


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


def _chapter_identities():
    """The derivations of the neuron, softmax, losses and back-propagation chapters."""
    sp = pytest.importorskip("sympy")
    K = 3
    z = sp.symbols("z0:3", real=True)
    r = sp.symbols("r0:3", real=True)
    T = sp.Symbol("T", positive=True)
    e = sp.exp
    S = sum(e(zk) for zk in z)
    y = [e(zk) / S for zk in z]
    yT = [e(zk / T) / sum(e(zj / T) for zj in z) for zk in z]
    delta = lambda i, j: 1 if i == j else 0  # noqa: E731
    true = {}
    # Softmax: both cases of the Jacobian, the Kronecker form, with and without T.
    for i in range(K):
        for j in range(K):
            case = y[i] * (1 - y[i]) if i == j else -y[i] * y[j]
            true[f"softmax: case d y{i} / d z{j}"] = (sp.diff(y[i], z[j]), case)
            true[f"softmax T: d y{i} / d z{j}"] = (sp.diff(yT[i], z[j]),
                                                  yT[i] * (delta(i, j) - yT[j]) / T)
            true[f"log-softmax: d l{i} / d z{j}"] = (sp.diff(sp.log(y[i]), z[j]),
                                                    delta(i, j) - y[j])
    true["softmax: rows of J sum to 0"] = (sum(sp.diff(y[0], zj) for zj in z), 0)
    true["softmax: shift invariance"] = (y[0], y[0].subs({zk: zk + r[0] for zk in z}))
    true["two-class softmax = sigmoid of the difference"] = (
        e(z[0]) / (e(z[0]) + e(z[1])), 1 / (1 + e(-(z[0] - z[1]))))
    # Softmax cross-entropy: the chain rule through the Jacobian, then y - r.
    J = -sum(rk * sp.log(yk) for rk, yk in zip(r, y, strict=True))
    for i in range(K):
        chain = -sum(r[k] / y[k] * y[k] * (delta(k, i) - y[i]) for k in range(K))
        true[f"sce: chain rule, i = {i}"] = (sp.diff(J, z[i]), chain)
        true[f"sce: y_i sum r - r_i, i = {i}"] = (sp.diff(J, z[i]), y[i] * sum(r) - r[i])
        true[f"sce: y - r with sum r = 1, i = {i}"] = (
            sp.diff(J, z[i]).subs(r[2], 1 - r[0] - r[1]), (y[i] - r[i]).subs(r[2], 1 - r[0] - r[1]))
    true["sce: log-sum-exp form"] = (
        -sp.log(y[0]), sp.log(sum(e(zk - z[1]) for zk in z)) + (z[1] - z[0]))
    # Binary cross-entropy, on probabilities and from the logit.
    p, t, x = sp.symbols("p t x", real=True)
    bce = -(t * sp.log(p) + (1 - t) * sp.log(1 - p))
    sigma = 1 / (1 + e(-x))
    true["bce: dJ/dy"] = (sp.diff(bce, p), (p - t) / (p * (1 - p)))
    true["bce: dJ/dz = sigma - r"] = (sp.diff(bce.subs(p, sigma), x), sigma - t)
    true["bce: logit form"] = (bce.subs(p, sigma), sp.log(1 + e(x)) - t * x)
    true["squared error: dJ/dy"] = (sp.diff((t - p) ** 2 / 2, p), p - t)
    true["mse: dJ/dy"] = (sp.diff(((p - t) ** 2 + (z[0] - r[0]) ** 2) / 2, p), (p - t) * 2 / 2)
    true["squared error: Gaussian NLL"] = (
        -sp.log(e(-(t - p) ** 2 / 2) / sp.sqrt(2 * sp.pi)), (t - p) ** 2 / 2 + sp.log(2 * sp.pi) / 2)
    # Back-propagation through a 2-2-1 network of sigmoids: delta rule vs the chain rule.
    w = sp.Matrix(2, 2, sp.symbols("w11 w12 w21 w22", real=True))
    v = sp.Matrix(1, 2, sp.symbols("v1 v2", real=True))
    b1, b2 = sp.Matrix(sp.symbols("b1_1 b1_2", real=True)), sp.Symbol("b2", real=True)
    xin = sp.Matrix(sp.symbols("x1 x2", real=True))
    sig = lambda u: 1 / (1 + e(-u))  # noqa: E731
    z1 = w * xin + b1
    a1 = z1.applyfunc(sig)
    z2 = (v * a1)[0] + b2
    a2 = sig(z2)
    loss = (a2 - t) ** 2 / 2
    delta2 = (a2 - t) * a2 * (1 - a2)
    delta1 = (v.T * delta2).multiply_elementwise(a1.applyfunc(lambda a: a * (1 - a)))
    for j in range(2):
        for i in range(2):
            true[f"backprop: dJ/dW1[{j},{i}] = delta1_j x_i"] = (
                sp.diff(loss, w[j, i]), delta1[j] * xin[i])
        true[f"backprop: dJ/dW2[{j}] = delta2 a1_j"] = (sp.diff(loss, v[j]), delta2 * a1[j])
        true[f"backprop: dJ/db1[{j}] = delta1_j"] = (sp.diff(loss, b1[j]), delta1[j])
    # Two linear layers are one: W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2).
    W1 = sp.Matrix(3, 2, sp.symbols("p0:6", real=True))
    W2 = sp.Matrix(2, 3, sp.symbols("q0:6", real=True))
    c1, c2 = sp.Matrix(sp.symbols("c0:3", real=True)), sp.Matrix(sp.symbols("d0:2", real=True))
    stacked, single = W2 * (W1 * xin + c1) + c2, (W2 * W1) * xin + (W2 * c1 + c2)
    for k in range(2):
        true[f"linear layers collapse, row {k}"] = (stacked[k], single[k])
    # XOR: (w2 + b) + (w1 + b) - (w1 + w2 + b) - b vanishes identically, yet the four
    # inequalities make it >= 0 + 0 + (> 0) + (> 0) > 0.
    w1, w2, bb = sp.symbols("w1 w2 b", real=True)
    true["xor: the certificate"] = ((w2 + bb) + (w1 + bb) - (w1 + w2 + bb) - bb, 0)
    # He initialization: E[relu(z)^2] = Var(z) / 2 for z ~ N(0, s^2); U(-l, l) has var l^2/3.
    s_, l_, u = sp.Symbol("s", positive=True), sp.Symbol("l", positive=True), sp.Symbol("u")
    gauss = e(-u ** 2 / (2 * s_ ** 2)) / (s_ * sp.sqrt(2 * sp.pi))
    true["he: relu halves the second moment"] = (sp.integrate(u ** 2 * gauss, (u, 0, sp.oo)),
                                                s_ ** 2 / 2)
    true["uniform variance l^2 / 3"] = (sp.integrate(u ** 2 / (2 * l_), (u, -l_, l_)), l_ ** 2 / 3)
    # Soft-argmax: d f_x / d a_kl = s_kl (x_l - f_x) / T on a 2 x 2 map.
    a = sp.symbols("a0:4", real=True)
    xs = [-1, 1, -1, 1]  # x_j of the pixels (0,0), (0,1), (1,0), (1,1)
    Z = sum(e(ak / T) for ak in a)
    smap = [e(ak / T) / Z for ak in a]
    fx = sum(sk * xk for sk, xk in zip(smap, xs, strict=True))
    for k in range(4):
        true[f"soft-argmax: d f_x / d a{k}"] = (sp.diff(fx, a[k]), smap[k] * (xs[k] - fx) / T)
    wrong = {  # the course's softmax cases split by value (z_i = z_j) instead of index
        "softmax by value: i != j with z_i = z_j": (
            sp.diff(y[0], z[1]).subs({z[0]: 1, z[1]: 1, z[2]: 0}),
            (y[0] * (1 - y[0])).subs({z[0]: 1, z[1]: 1, z[2]: 0})),
    }
    return sp, true, wrong


def test_chapter_derivations_hold_in_sympy():
    sp, true, _ = _chapter_identities()
    failed = []
    for name, (lhs, rhs) in true.items():
        diff = sp.simplify(sp.sympify(lhs - rhs).rewrite(sp.exp))
        if diff != 0 and not _is_zero(sp, diff):
            failed.append(name)
    assert not failed, f"steps in the chapters that SymPy does not confirm: {failed}"


def test_chapter_course_mistakes_are_wrong():
    _, _, wrong = _chapter_identities()
    for name, (lhs, rhs) in wrong.items():
        assert abs(float(lhs - rhs)) > 1e-3, f"{name}: the course formula holds after all"


def test_worked_network_tables_match_plain_numpy():
    # The numbers in the hand-worked tables of backprop.rst, from the formulas alone.
    sigmoid = lambda u: 1 / (1 + np.exp(-u))  # noqa: E731
    x, r = np.array([1.0, 2.0]), 1.0
    W1, b1 = np.array([[0.1, -0.2], [0.4, 0.3]]), np.array([0.0, -0.1])
    W2, b2 = np.array([[0.5, -0.6]]), np.array([0.2])
    a1 = sigmoid(W1 @ x + b1)
    a2 = sigmoid(W2 @ a1 + b2)
    d2 = (a2 - r) * a2 * (1 - a2)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    numbers = [*a1, *(W2 @ a1 + b2), *a2, *(0.5 * (a2 - r) ** 2), *d2, *(W2.T @ d2),
               *(a1 * (1 - a1)), *d1, *np.outer(d2, a1).ravel(), *np.outer(d1, x).ravel()]
    page = (DOCS / "backprop.rst").read_text(encoding="utf-8")
    shown = {f"{v:.6f}".rstrip("0") for v in numbers}
    missing = [v for v in shown if v not in page]
    assert not missing, f"numbers of the worked example missing from backprop.rst: {missing}"


# ----------------------------------------------------------------------------------------
# The built site
# ----------------------------------------------------------------------------------------
# These read the built site, so `make docs` runs them right after building it; the plain
# test run leaves them out (-m "not built_docs" in pyproject.toml): a site left over from an
# older build would otherwise be tested against newer sources.
def needs_build(test):
    test = pytest.mark.skipif(
        not (HTML / "index.html").exists(),
        reason="docs/_build/html does not exist: run `make docs` to build the textbook")(test)
    return pytest.mark.built_docs(test)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (`apt-get install chromium`; `make docs` does it as root)")


def built_pages():
    return sorted(HTML.rglob("*.html"))


@needs_build
def test_built_site_has_every_page():
    for name in activation_pages.elementwise_names():
        assert (HTML / "activations" / f"{name}.html").exists()
    for page in ("index", "api", "glossary", "search", "activations/index", "neuron", "softmax",
                 "losses", "backprop", "practice", "bibliography"):
        assert (HTML / f"{page}.html").exists()


PUBLIC_MODULES = ["activations", "softmax", "losses", "perceptron", "layers", "network", "training", "diagnostics",
                  "evaluation", "persistence", "reference", "targets", "init", "optim", "datasets", "gradcheck",
                  "estimators"]


@needs_build
@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_api_reference_documents_every_public_name(module):
    import importlib

    names = importlib.import_module(f"neuronlab.{module}").__all__
    assert names, f"neuronlab.{module} has an empty __all__"
    page = (HTML / "api.html").read_text(encoding="utf-8")
    missing = [name for name in names if f'id="neuronlab.{module}.{name}"' not in page]
    assert not missing, f"public names of neuronlab.{module} missing from the API reference: {missing}"


@needs_build
def test_every_citation_is_cited_and_resolves():
    bib = (DOCS / "bibliography.rst").read_text(encoding="utf-8")
    keys = re.findall(r"^\.\. \[(\w+)\]", bib, re.MULTILINE)
    assert len(keys) >= 13
    cited = set()
    for page in rst_sources():
        cited |= set(re.findall(r"\[(\w+)\]_", page.read_text(encoding="utf-8")))
    assert set(keys) <= cited, f"papers in the bibliography cited nowhere: {set(keys) - cited}"
    assert cited <= set(keys), f"citations with no entry: {cited - set(keys)}"
    html = (HTML / "bibliography.html").read_text(encoding="utf-8")
    for key in keys:
        assert f'id="{key.lower()}"' in html, f"{key} has no anchor on the bibliography page"


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
    for name in activation_pages.elementwise_names():
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
                                  "activations/index.html", "losses.html"])
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
