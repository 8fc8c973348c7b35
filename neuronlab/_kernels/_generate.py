"""Render the elementwise kernels from activation.pxd (run by setup.py at build time).

activation.pxd is the one place where an activation's kernel is declared. Each block
``# <NAME>`` ... ``# </NAME>`` that defines ``NAME_f(floating x, ...)`` is an activation, and
the block itself says everything the loops need:

* the parameters after ``x`` of ``NAME_f`` (and of ``NAME_df``, ``NAME_d2f``);
* ``NAME_df_from_y(floating y, ...)``, where f' can be written with the output alone;
* ``NAME_f_array(x, y, n)``, where the forward loop is one call rather than a loop;
* the comment line ``# loops: memory-bound`` for an activation with no exponential, tanh
  or erf in f, f' or f'': its loops wait for memory, not arithmetic, and write large
  outputs with streaming stores (as do all the backward-from-output loops, a polynomial in
  y). Timed at 10^7 elements, streaming made those 8-48% faster and the transcendental
  loops 5-25% slower.

From these the template ``_elementwise.pyx.tp`` writes the array loops, and
:func:`render_pyi` the matching type stub, so the loops are generated, never copied by hand.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
PXD = HERE / "activation.pxd"
MEMORY_BOUND_MARK = "# loops: memory-bound"


def activations(pxd: Path = PXD) -> list[SimpleNamespace]:
    """Every activation block of activation.pxd, in its order: name, params, out_params
    (None without an output form), array_form, memory_bound."""
    text = pxd.read_text()
    found = []
    for name, block in re.findall(r"^# <(\w+)>\n(.*?)^# </\1>", text, re.MULTILINE | re.DOTALL):
        f = re.search(rf"^cdef inline floating {name}_f\(floating x((?:, floating \w+)*)\)", block, re.MULTILINE)
        if f is None:
            continue    # a block of helpers only
        from_y = re.search(rf"^cdef inline floating {name}_df_from_y\(floating y((?:, floating \w+)*)\)",
                           block, re.MULTILINE)
        found.append(SimpleNamespace(
            name=name,
            params=_names(f.group(1)),
            out_params=None if from_y is None else _names(from_y.group(1)),
            array_form=re.search(rf"^cdef inline void {name}_f_array\(", block, re.MULTILINE) is not None,
            memory_bound=MEMORY_BOUND_MARK in block,
        ))
    return found


def _names(params: str) -> tuple[str, ...]:
    return tuple(p.split()[-1] for p in params.split(",") if p.strip())


def streams(a: SimpleNamespace, op: str) -> bool:
    """Whether the loop of `op` writes outputs of STREAM_MIN_BYTES or more by streaming."""
    return a.memory_bound or op == "backward_from_output"


def prefetches(a: SimpleNamespace, op: str) -> bool:
    """Whether the loop of `op` prefetches its arrays from PREFETCH_MIN_BYTES of output on:
    the loops that compute for long per element (those that do not stream), unless an
    array form of their own does the work."""
    return not streams(a, op) and not (a.array_form and op == "forward")


def kernels():
    """One record per generated array function: its name, arguments and loop body."""
    for a in activations():
        name, params = a.name, a.params
        p = "".join(", " + q for q in params)
        rows = [
            ("forward", ("x", "y"), f"y[i] = act.{name}_f(x[i]{p})", params),
            ("derivative", ("x", "y"), f"y[i] = act.{name}_df(x[i]{p})", params),
            ("second_derivative", ("x", "y"), f"y[i] = act.{name}_d2f(x[i]{p})", params),
            ("backward", ("x", "dy", "dx"), f"dx[i] = act.{name}_df(x[i]{p}) * dy[i]", params),
        ]
        if a.out_params is not None:
            q = "".join(", " + r for r in a.out_params)
            rows.append(("backward_from_output", ("y", "dy", "dx"),
                         f"dx[i] = act.{name}_df_from_y(y[i]{q}) * dy[i]", a.out_params))
        for op, arrays, body, args in rows:
            *inputs, output = arrays
            yield SimpleNamespace(
                name=f"{name}_{op}",
                activation=name,
                op=op,
                arrays=arrays,
                params=args,
                output=output,
                streams=streams(a, op),
                prefetches=prefetches(a, op),
                prefetch="; ".join([f"nl_prefetch({v} + j)" for v in inputs]
                                   + [f"nl_prefetch_write({output} + j)"]),
                body=body,
                array_form=f"act.{name}_f_array(x, y, n)" if a.array_form and op == "forward" else None,
                views=", ".join([f"const floating[::1] {v}" for v in inputs] + [f"floating[::1] {output}"]),
                pointers=", ".join([f"const floating* {v}" for v in inputs] + [f"floating* {output}"]),
                offsets=", ".join(f"{v} + lo" for v in arrays),
                pointers_only=", ".join(arrays),
                tile_offsets=", ".join([*inputs, "buf"]),
                tile_offsets_carried=", ".join([f"{v} + lo" for v in inputs] + ["buf + c"]),
                block_offsets=", ".join([f"{v} + lo" for v in inputs] + ["buf"]),
                firsts=", ".join(f"&{v}[0]" for v in arrays),
                args="".join(f", {q}" for q in args),
                scalar_params="".join(f", floating {q}" for q in args),
                python_params="".join(f", double {q}" for q in args),
                casts="".join(f", <floating>{q}" for q in args),
            )


def bias_kernels():
    """One record per activation for the fused bias-add + activation of a dense layer."""
    for a in activations():
        name, params = a.name, a.params
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
    # the large-array loops of each kernel, from _streaming.pyx.tp without its header comment
    streaming = (HERE / "_streaming.pyx.tp").read_text()
    streaming = streaming[streaming.index("{{"):]
    loops = list(kernels())
    for k in loops:
        k.memory_loops = Tempita.sub(streaming, k=k)
    header = ("# Generated from activation.pxd, _elementwise.pyx.tp and _streaming.pyx.tp by "
              "_generate.py: edit those, not this file.\n")
    return header + Tempita.sub(template, kernels=loops, bias_kernels=list(bias_kernels()),
                                activations=activations())


def render_pyi() -> str:
    lines = [
        "# Generated by _generate.py from activation.pxd: the compiled loops of _elementwise.pyx.",
        "from collections.abc import Callable",
        "",
        "import numpy as np",
        "from numpy.typing import NDArray",
        "",
        "Float = NDArray[np.float32] | NDArray[np.float64]",
        "Loop = Callable[..., None]",
        "",
        "CHUNK: int",
        "MIN_PARALLEL_CHUNKS: int",
        "STREAM_MIN_BYTES: int",
        "TILE_BYTES: int",
        "PREFETCH_MIN_BYTES: int",
        "PREFETCH_BLOCK: int",
        "PREFETCH_AHEAD: int",
        "KINDS: dict[str, int]",
        "PARAMETERS: dict[str, tuple[str, ...]]",
        "OUTPUT_FORMS: dict[str, tuple[str, ...]]",
        "",
        "def loop(activation: str, op: str) -> Loop: ...",
    ]

    def stub(name: str, arrays: str, threads: bool = True) -> str:
        extra = ", n_threads: int = 1" if threads else ""
        args = ", ".join(f"{a}: Float" for a in arrays.split())
        return f"def {name}({args}{extra}) -> None: ..."

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
