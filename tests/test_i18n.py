"""The Chinese edition (中文版): one source, two languages, never out of sync.

The textbook's .rst files are the only source. Its Chinese edition swaps every message
(paragraph, title, table cell) for its translation in ``docs/locale/zh_CN/LC_MESSAGES``.
These tests keep the two editions together:

* every catalog is complete: no empty and no fuzzy translation (no build needed);
* every English message of the current sources has a catalog entry (after ``make docs``,
  which extracts the messages into docs/_build/gettext): an edited English sentence fails
  here until ``make translations`` has refreshed the catalogs and someone translated it;
* each glossary term has one Chinese name throughout the edition;
* every formula, code block and figure of an English page is on its Chinese twin,
  unchanged, and the two pages link to each other;
* the Chinese search index finds 激活函数 and 梯度.

The API reference is generated from the docstrings, which are English like the code they
document (and like ``help()``): only that page's own words are translated.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LOCALE = DOCS / "locale" / "zh_CN" / "LC_MESSAGES"
HTML = DOCS / "_build" / "html"
HTML_ZH = HTML / "zh_CN"
GETTEXT = DOCS / "_build" / "gettext"


# ----------------------------------------------------------------------------------------
# Reading catalogs (a few lines instead of a dependency: the test extras have no Babel)
# ----------------------------------------------------------------------------------------
def _unquote(line: str) -> str:
    return json.loads(line)   # a PO string literal is a JSON string for the escapes used here


def read_catalog(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy) for every entry of a .po or .pot file but the header.

    Entries are separated by blank lines; a ``#,`` line holds the entry's flags.
    """
    entries: dict[str, tuple[str, bool]] = {}
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, str] = {}
        key, fuzzy = None, False
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                fuzzy = "fuzzy" in line
            elif line.startswith(("msgid ", "msgstr ")):
                key, _, literal = line.partition(" ")
                fields[key] = _unquote(literal)
            elif line.startswith('"') and key:
                fields[key] += _unquote(line)
        if fields.get("msgid"):  # the header's msgid is ""
            entries[fields["msgid"]] = (fields.get("msgstr", ""), fuzzy)
    return entries


def catalogs() -> list[Path]:
    return sorted(LOCALE.rglob("*.po"))


def page_of(catalog: Path, base: Path = LOCALE) -> str:
    return catalog.relative_to(base).with_suffix("").as_posix()


_API_SOURCE = None


# sphinx-gallery writes each tutorial's run time into its page: a new message every build.
_RUN_TIME = re.compile(r"^\*\*Total running time of the script:\*\*")


def required(page: str, msgid: str) -> bool:
    """Whether a message must be translated: all of them but the API's docstrings and the
    tutorials' run times."""
    global _API_SOURCE
    if _RUN_TIME.match(msgid):
        return False
    if page != "api":
        return True
    if _API_SOURCE is None:
        _API_SOURCE = re.sub(r"\s+", " ", (DOCS / "api.rst").read_text(encoding="utf-8"))
    return msgid in _API_SOURCE


def test_read_catalog_handles_continuations_and_flags(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n\nmsgid "a"\nmsgstr "甲"\n\n'
                  '#, fuzzy\nmsgid ""\n"b "\n"c"\nmsgstr "乙"\n\nmsgid "d \\"e\\""\nmsgstr ""\n',
                  encoding="utf-8")
    assert read_catalog(po) == {"a": ("甲", False), "b c": ("乙", True), 'd "e"': ("", False)}


# ----------------------------------------------------------------------------------------
# The catalogs (no build needed)
# ----------------------------------------------------------------------------------------
def test_there_is_a_catalog_for_every_page():
    pages = {p.relative_to(DOCS).with_suffix("").as_posix()
             for p in DOCS.rglob("*.rst") if not {"_build", "auto_tutorials"} & set(p.parts)}
    have = {page_of(c) for c in catalogs()}
    assert pages <= have, f"pages without a Chinese catalog: {sorted(pages - have)}"


@pytest.mark.parametrize("catalog", catalogs(), ids=lambda c: page_of(c))
def test_catalog_is_translated_and_not_fuzzy(catalog):
    page = page_of(catalog)
    entries = read_catalog(catalog)
    assert entries, f"{catalog} is empty"
    empty = [m for m, (s, _) in entries.items() if not s.strip() and required(page, m)]
    fuzzy = [m for m, (_, f) in entries.items() if f and required(page, m)]
    assert not empty, f"{page}: {len(empty)} untranslated messages, e.g. {empty[:3]}"
    assert not fuzzy, f"{page}: {len(fuzzy)} fuzzy messages (check and clear), e.g. {fuzzy[:3]}"


_ROLE = re.compile(r":(?:math|ref|doc|class|func|meth|mod|attr|data|term|numref|eq):`[^`]*`")


@pytest.mark.parametrize("catalog", catalogs(), ids=lambda c: page_of(c))
def test_translations_keep_every_formula_reference_and_literal(catalog):
    """Roles (:math:, :ref:, ...), ``literals`` and citations are copied, not translated."""
    page = page_of(catalog)
    bad = []
    for msgid, (msgstr, _) in read_catalog(catalog).items():
        if not msgstr:
            continue
        for pattern in (_ROLE, re.compile(r"``[^`]+``"), re.compile(r"\[\w+\]_")):
            if sorted(pattern.findall(msgid)) != sorted(pattern.findall(msgstr)):
                bad.append((msgid[:60], sorted(set(pattern.findall(msgid)) ^ set(pattern.findall(msgstr)))))
    assert not bad, f"{page}: markup changed in translation: {bad[:5]}"


# reStructuredText only sees inline markup that is set off from the text around it: a
# Chinese character, or a full-width bracket, glued to ``literal`` or :role:`text` leaves
# it as plain text (and the build fails on the unmatched backquotes).
_CJK_BEFORE = "\u4e00-\u9fff\uff09\u300d\u201d"     # ideographs and ） 」 ”
_CJK_AFTER = "\u4e00-\u9fff\uff08\u300c\u201c"      # ideographs and （ 「 “
_GLUED = re.compile(rf"(?:``[^`]+``|(?<!`)`[^`]+`(?:_|__)?)(?=[{_CJK_AFTER}])"
                    rf"|(?<=[{_CJK_BEFORE}])(?:``|:[a-z]+:`)")


@pytest.mark.parametrize("catalog", catalogs(), ids=lambda c: page_of(c))
def test_markup_is_set_off_from_chinese_text(catalog):
    glued = [(m[:50], g.group(0)) for m, (s, _) in read_catalog(catalog).items() if s
             for g in [_GLUED.search(s)] if g]
    assert not glued, f"{page_of(catalog)}: put a space between markup and Chinese text: {glued[:5]}"


# The glossary's concepts with the translations that compete with the one the textbook
# uses (each seen in Chinese course material or textbooks). A competing name on a page
# makes a student wonder whether it is a different concept.
COMPETING = {
    "感知机": ["感知器"],
    "激活函数": ["激励函数", "激发函数"],
    "反向传播": ["反向传导", "误差逆传播", "逆传播"],
    "梯度消失": ["梯度弥散"],
    "偏置": ["偏置项目", "阈值项"],
    "神经元": ["神经单元"],
    "损失函数": ["代价函数"],
    "交叉熵": ["互熵"],
    "独热编码": ["one-hot 编码", "独热码"],
    "过拟合": ["过度拟合"],
    "学习率": ["学习速率", "学习步长"],
    "早停": ["提前停止", "早停止"],
    "正则化": ["规则化", "正规化"],
    "雅可比矩阵": ["雅克比矩阵", "雅各比矩阵"],
    "饱和": ["饱和化"],
    "动量": ["冲量"],
    "权重": ["权值"],
}


def glossary_names() -> dict[str, str]:
    """English term -> its Chinese name, read off the glossary page."""
    text = (DOCS / "glossary.rst").read_text(encoding="utf-8")
    return dict(re.findall(r"^   (\S[^\n]*)\n      ([\u4e00-\u9fff][^\s(（.,，]*)", text, re.MULTILINE))


def test_glossary_names_the_terms_coursework_uses():
    names = set(glossary_names().values())
    wanted = {"交叉熵", "正则化", "结构风险", "经验风险", "独热编码", "雅可比矩阵", "早停", "动量",
              "过拟合", "交叉验证", "学习率", "批量", "轮次", "神经元", "感知机", "偏置", "激活函数",
              "饱和", "梯度消失", "反向传播"}
    assert wanted <= names, f"glossary lacks {sorted(wanted - names)}"


def test_each_glossary_term_has_one_chinese_name_across_the_edition():
    names = set(glossary_names().values())
    assert set(COMPETING) <= names, f"COMPETING names terms the glossary lacks: {set(COMPETING) - names}"
    offenders = []
    for catalog in catalogs():
        text = "\n".join(s for s, _ in read_catalog(catalog).values())
        for term, rivals in COMPETING.items():
            offenders += [(page_of(catalog), rival, term) for rival in rivals if rival in text]
    assert not offenders, ("pages using a competing translation (page, found, glossary's term): "
                           f"{offenders}")


# ----------------------------------------------------------------------------------------
# Against the current sources and the built editions (make docs)
# ----------------------------------------------------------------------------------------
needs_gettext = pytest.mark.skipif(not GETTEXT.is_dir(),
                                   reason="docs/_build/gettext does not exist: run `make docs`")
needs_build = pytest.mark.skipif(not HTML_ZH.is_dir(),
                                 reason="docs/_build/html/zh_CN does not exist: run `make docs`")


@pytest.mark.built_docs
@needs_gettext
def test_every_english_message_has_its_translation():
    missing = {}
    for template in sorted(GETTEXT.rglob("*.pot")):
        page = page_of(template, GETTEXT)
        catalog = LOCALE / f"{page}.po"
        have = read_catalog(catalog) if catalog.exists() else {}
        lacking = [m for m in read_catalog(template)
                   if required(page, m) and (not have.get(m, ("", False))[0] or have[m][1])]
        if lacking:
            missing[page] = lacking
    assert not missing, ("English messages without a Chinese translation (run `make translations`, "
                         "translate, commit both): "
                         + "; ".join(f"{p}: {len(m)}, e.g. {m[0][:80]!r}" for p, m in missing.items()))


def english_pages() -> list[str]:
    if not HTML.is_dir():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not any(part == "zh_CN" or part.startswith("_") for part in p.relative_to(HTML).parts))


def _main(html: str) -> str:
    found = re.search(r"<article[^>]*>(.*)</article>", html, re.DOTALL)
    return found.group(1) if found else html


def invariant_parts(html: str) -> dict[str, list[str]]:
    """What a translation may not touch: display math, inline math, code blocks, images.

    Inline formulas are compared as a sorted list, whitespace collapsed: a Chinese sentence
    may name them in another order, and a line break inside one is only the source's.
    """
    body = _main(html)

    def squeeze(formulas):
        return sorted(re.sub(r"\s+", " ", f) for f in formulas)

    return {
        "math": re.findall(r'<div class="math[^"]*"[^>]*>(.*?)</div>', body, re.DOTALL),
        "inline math": squeeze(re.findall(r'<span class="math notranslate nohighlight">(.*?)</span>',
                                          body, re.DOTALL)),
        "code": [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<pre>(.*?)</pre>", body, re.DOTALL)],
        "figures": re.findall(r'<img[^>]*src="([^"]+)"', body),
    }


@pytest.mark.built_docs
@needs_build
@pytest.mark.parametrize("page", english_pages())
def test_chinese_twin_has_the_same_formulas_code_and_figures(page):
    english = (HTML / page).read_text(encoding="utf-8")
    twin = HTML_ZH / page
    assert twin.exists(), f"{page} has no Chinese twin"
    chinese = twin.read_text(encoding="utf-8")
    en, zh = invariant_parts(english), invariant_parts(chinese)
    for kind in en:
        if kind == "figures":   # the same files, one folder further down in the Chinese site
            assert [Path(s).name for s in zh[kind]] == [Path(s).name for s in en[kind]], page
        else:
            assert zh[kind] == en[kind], f"{page}: the {kind} differ between the editions"
    depth = page.count("/")
    assert f'href="{"../" * depth}zh_CN/{page}"' in english, f"{page} does not link to its twin"
    assert f'href="{"../" * depth}../{page}"' in chinese, f"zh_CN/{page} does not link back"
    assert 'lang="zh-CN"' in chinese or 'lang="zh_CN"' in chinese


@pytest.mark.built_docs
@needs_build
def test_chinese_pages_are_translated():
    """The text around the invariants is Chinese: most characters of a chapter are CJK."""
    for page in ["index.html", "activations/sigmoid.html", "backprop.html", "errors.html",
                 "auto_tutorials/01_perceptron_logic.html"]:
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|pre|style).*?</\1>|<div class=\"math.*?</div>",
                                              " ", _main((HTML_ZH / page).read_text(encoding="utf-8")),
                                              flags=re.DOTALL))
        text = unescape(text)
        cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
        latin_words = len(re.findall(r"\b[A-Za-z]{4,}\b", text))
        assert cjk > 3 * latin_words, f"zh_CN/{page}: {cjk} CJK characters, {latin_words} English words"


@pytest.mark.built_docs
@needs_build
@pytest.mark.parametrize("word, page", [("激活函数", "activations/index"), ("梯度", "backprop"),
                                        ("交叉熵", "losses")])
def test_chinese_search_index_finds_words(word, page):
    """Sphinx's Chinese search splits the text with jieba: whole words are in the index."""
    raw = (HTML_ZH / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1: raw.rindex(")")])
    docnames = index["docnames"]
    hits = set()
    for kind in ("terms", "titleterms"):   # a word of a page's titles is listed only there
        found = index[kind].get(word, [])
        hits |= set(found if isinstance(found, list) else [found])
    assert hits, f"{word} is not a term of the Chinese search index"
    assert docnames.index(page) in hits, f"{word} does not lead to {page}"


# ----------------------------------------------------------------------------------------
# In a real browser: Chinese glyphs, not tofu boxes
# ----------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def cjk_fonts() -> str:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ""
    return subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout


def screenshot(url: str, path: Path, size: str = "1280,1600") -> np.ndarray:
    """A headless chromium screenshot of `url` (no network) as an RGB array."""
    from PIL import Image

    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--allow-file-access-from-files", "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=15000", f"--window-size={size}", f"--screenshot={path}", url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and path.exists(), f"chromium failed: {done.stderr[-2000:]}"
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.built_docs
@needs_build
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make docs` installs it as root)")
@pytest.mark.skipif(os.geteuid() != 0 and not cjk_fonts(),
                    reason="no CJK font and not root to install one (`make docs` installs fonts-wqy-microhei)")
def test_chinese_text_renders_as_glyphs_not_tofu(tmp_path):
    """Two different Chinese words must look different. Without a font that has their
    glyphs, the browser draws the same empty box for every character (tofu), and the two
    screenshots would be alike."""
    assert cjk_fonts(), "fontconfig knows no font with Chinese glyphs"
    css = (HTML_ZH / "_static" / "neuronlab.css").as_uri()
    pictures = []
    for word in ("激活函数", "梯度下降"):
        page = tmp_path / f"{len(pictures)}.html"
        page.write_text(f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
                        f'<link rel="stylesheet" href="{css}"></head>'
                        f'<body style="margin:0;font-size:64px">{word}</body></html>', encoding="utf-8")
        pictures.append(screenshot(page.as_uri(), tmp_path / f"{len(pictures)}.png", "400,100"))
    ink = [(p < 128).any(axis=2) for p in pictures]
    assert all(i.sum() > 500 for i in ink), "no text was drawn"
    assert (ink[0] != ink[1]).sum() > 0.2 * ink[0].sum(), "the two words look alike: tofu boxes"
    # The real page, kept for a person to look at (docs/_build/screenshots).
    shots = DOCS / "_build" / "screenshots"
    shots.mkdir(exist_ok=True)
    for page in ("activations/sigmoid", "backprop", "auto_tutorials/01_perceptron_logic"):
        screenshot((HTML_ZH / f"{page}.html").as_uri(), shots / f"zh_{page.replace('/', '_')}.png")
    screenshot((HTML_ZH / "search.html").as_uri() + "?q=激活函数", shots / "zh_search.png")


@pytest.mark.built_docs
@needs_build
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make docs` installs it as root)")
@pytest.mark.parametrize("word, page", [("激活函数", "activations/index.html"), ("反向传播", "backprop.html")])
def test_the_chinese_search_page_finds_pages_in_a_browser(word, page):
    """The search page's script runs (no error in its stemmer) and lists the page."""
    from urllib.parse import quote

    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--allow-file-access-from-files",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=15000", "--run-all-compositor-stages-before-draw", "--dump-dom",
            (HTML_ZH / "search.html").as_uri() + "?q=" + quote(word)]
    dom = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False).stdout
    assert re.search(rf'<a href="{re.escape(page)}[^"]*"', dom), f"searching {word} did not list {page}"
