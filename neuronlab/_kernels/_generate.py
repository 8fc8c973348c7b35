"""Render the elementwise kernels from one table (run by setup.py at build time).

Each row names an activation whose scalar functions live in ``activation.pxd``
(``NAME_f``, ``NAME_df``, ``NAME_d2f`` and, where listed, ``NAME_df_from_y``) and the
parameters they take after ``x``. From it the template ``_elementwise.pyx.tp`` writes
the array loops, and :func:`render_pyi` writes the matching type stub, so the loops are
generated, never copied by hand.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (name, parameters of f, parameters of df_from_y or None when there is no output form)
ACTIVATIONS: list[tuple[str, tuple[str, ...], tuple[str, ...] | None]] = [
    ("identity", (), None),
    ("binary_step", (), None),
    ("sigmoid", (), ()),
    ("hard_sigmoid", ("slope",), None),
    ("tanh", (), ()),
    ("hard_tanh", (), None),
    ("softsign", (), None),
    ("relu", (), ()),
    ("leaky_relu", ("alpha",), None),
    ("elu", ("alpha",), ("alpha",)),
    ("selu", (), ()),
    ("softplus", (), None),
    ("swish", ("beta",), None),
    ("gelu", (), None),
    ("gelu_tanh", (), None),
    ("mish", (), None),
]


#: activations with no exponential, tanh or erf in f, f' or f'': their loops wait for memory,
#: not arithmetic, and write large outputs with streaming stores (see _elementwise.pyx.tp),
#: as do all the backward-from-output loops (a polynomial in y). Timed at 10^7 elements,
#: streaming made these 8-48% faster and the transcendental loops 5-25% slower.
MEMORY_BOUND = {"identity", "binary_step", "hard_sigmoid", "hard_tanh", "softsign", "relu",
                "leaky_relu"}


def streams(name: str, op: str) -> bool:
    """Whether the loop `NAME_OP` writes outputs of STREAM_MIN_BYTES or more by streaming."""
    return name in MEMORY_BOUND or op == "backward_from_output"


def prefetches(name: str, op: str) -> bool:
    """Whether the loop `NAME_OP` prefetches its arrays from PREFETCH_MIN_BYTES of output on:
    the loops that compute for long per element (those that do not stream), unless an
    array form of their own does the work."""
    return not streams(name, op) and f"{name}_{op}" not in ARRAY_FORMS


#: loops written as one call instead of a loop over the scalar function (same values)
ARRAY_FORMS: dict[str, str] = {
    "tanh_forward": "act.tanh_f_array(x, y, n)",
    # y = x is a copy: libc's, like np.copyto's (memmove, as out may be x itself)
    "identity_forward": "memmove(y, x, n * sizeof(floating))",
}


def kernels():
    """One record per generated array function: its name, arguments and loop body."""
    from types import SimpleNamespace

    for name, params, out_params in ACTIVATIONS:
        a = "".join(", " + p for p in params)
        rows = [
            ("forward", ("x", "y"), f"y[i] = act.{name}_f(x[i]{a})", params),
            ("derivative", ("x", "y"), f"y[i] = act.{name}_df(x[i]{a})", params),
            ("second_derivative", ("x", "y"), f"y[i] = act.{name}_d2f(x[i]{a})", params),
            ("backward", ("x", "dy", "dx"), f"dx[i] = act.{name}_df(x[i]{a}) * dy[i]", params),
        ]
        if out_params is not None:
            b = "".join(", " + p for p in out_params)
            rows.append(("backward_from_output", ("y", "dy", "dx"),
                         f"dx[i] = act.{name}_df_from_y(y[i]{b}) * dy[i]", out_params))
        for op, arrays, body, p in rows:
            *inputs, output = arrays
            yield SimpleNamespace(
                name=f"{name}_{op}",
                activation=name,
                op=op,
                arrays=arrays,
                params=p,
                output=output,
                streams=streams(name, op),
                prefetches=prefetches(name, op),
                prefetch="; ".join([f"nl_prefetch({v} + j)" for v in inputs]
                                   + [f"nl_prefetch_write({output} + j)"]),
                body=body,
                array_form=ARRAY_FORMS.get(f"{name}_{op}"),
                views=", ".join([f"const floating[::1] {v}" for v in inputs] + [f"floating[::1] {output}"]),
                pointers=", ".join([f"const floating* {v}" for v in inputs] + [f"floating* {output}"]),
                offsets=", ".join(f"{v} + lo" for v in arrays),
                pointers_only=", ".join(arrays),
                tile_offsets=", ".join([*inputs, "buf"]),
                tile_offsets_carried=", ".join([f"{v} + lo" for v in inputs] + ["buf + c"]),
                block_offsets=", ".join([f"{v} + lo" for v in inputs] + ["buf"]),
                firsts=", ".join(f"&{v}[0]" for v in arrays),
                args="".join(f", {q}" for q in p),
                scalar_params="".join(f", floating {q}" for q in p),
                python_params="".join(f", double {q}" for q in p),
                casts="".join(f", <floating>{q}" for q in p),
            )


def bias_kernels():
    """One record per activation for the fused bias-add + activation of a dense layer."""
    from types import SimpleNamespace

    for name, params, _ in ACTIVATIONS:
        yield SimpleNamespace(
            name=name,
            args="".join(", " + p for p in params),
            scalar_params="".join(f", floating {q}" for q in params),
            python_params="".join(f", double {q}" for q in params),
            casts="".join(f", <floating>{q}" for q in params),
            p_casts="".join(f", <floating>p[{i}]" for i in range(len(params))),
        )


def render_pyx() -> str:
    from Cython import Tempita

    template = (HERE / "_elementwise.pyx.tp").read_text()
    header = "# Generated from _elementwise.pyx.tp by _generate.py: edit those, not this file.\n"
    return header + Tempita.sub(template, kernels=list(kernels()), bias_kernels=list(bias_kernels()))


def render_pyi() -> str:
    lines = [
        "# Generated by _generate.py: the compiled loops of _elementwise.pyx.",
        "import numpy as np",
        "from numpy.typing import NDArray",
        "",
        "Float = NDArray[np.float32] | NDArray[np.float64]",
        "",
        "CHUNK: int",
        "MIN_PARALLEL_CHUNKS: int",
        "STREAM_MIN_BYTES: int",
        "TILE_BYTES: int",
        "PREFETCH_MIN_BYTES: int",
        "PREFETCH_BLOCK: int",
        "PREFETCH_AHEAD: int",
        "KINDS: dict[str, int]",
        "",
    ]
    def stub(name: str, arrays: str, params: tuple[str, ...] = (), threads: bool = True) -> str:
        extra = "".join(f", {p}: float" for p in params) + (", n_threads: int = 1" if threads else "")
        args = ", ".join(f"{a}: Float" for a in arrays.split())
        return f"def {name}({args}{extra}) -> None: ..."

    for name, params, out_params in ACTIVATIONS:
        for op in ("forward", "derivative", "second_derivative"):
            lines.append(stub(f"{name}_{op}", "x y", params))
        lines.append(stub(f"{name}_backward", "x dy dx", params))
        if out_params is not None:
            lines.append(stub(f"{name}_backward_from_output", "y dy dx", out_params))
        lines.append(stub(f"{name}_forward_bias", "z b a", params))
    lines += [
        stub("leaky_relu_forward_columns", "x alpha y"),
        stub("leaky_relu_derivative_columns", "x alpha y"),
        stub("leaky_relu_backward_columns", "x alpha dy dx"),
        stub("leaky_relu_alpha_gradient", "x dy dalpha", threads=False),
        "",
    ]
    return "\n".join(lines)


def write(build_dir: Path = HERE) -> None:
    """Write ``_elementwise.pyx`` and ``_elementwise.pyi``, touching them only on change."""
    outputs = {"_elementwise.pyx": render_pyx(), "_elementwise.pyi": render_pyi()}
    for filename, text in outputs.items():
        path = build_dir / filename
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


if __name__ == "__main__":
    write()
