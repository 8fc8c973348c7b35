"""Spatial softmax and soft-argmax (Levine, Finn, Darrell and Abbeel, 2016): softmax over
each channel's H x W map, and the expected position under it. They work on image-shaped
arrays and are used directly, not through the activation registry.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from neuronlab._validation import as_float_array, check_real, result_dtype
from neuronlab.softmax.vector import Softmax, _pair


def _maps(a: Any, name: str) -> np.ndarray:
    a = as_float_array(a, name)
    if a.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., H, W), e.g. (N, C, H, W); "
                         f"got shape {a.shape}")
    if a.shape[-1] == 0 or a.shape[-2] == 0:
        raise ValueError(f"{name} has an empty feature map: shape {a.shape}")
    return a


class SpatialSoftmax:
    r"""Softmax over each channel's H x W map: s_cij = e^{a_cij / T} / sum_{i'j'} e^{a_ci'j' / T}.

    Input and output have the shape (..., H, W), typically (N, C, H, W); each map becomes
    a probability distribution over the pixels of one feature.

    Parameters
    ----------
    temperature : float
        T > 0 (Levine et al. learn it; here it is fixed).
    """

    def __init__(self, temperature: float = 1.0):
        self.temperature = check_real(temperature, "temperature", low=0.0, low_open=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(temperature={self.temperature!r})"

    def _flat(self, a):
        return a.reshape(*a.shape[:-2], -1)

    def forward(self, a: Any) -> np.ndarray:
        """s, the same shape as a."""
        a = _maps(a, "a")
        return Softmax(-1, self.temperature)(self._flat(a)).reshape(a.shape)

    __call__ = forward

    def backward(self, a: Any, ds: Any) -> np.ndarray:
        """dJ/da from ds = dJ/ds (both the shape of a)."""
        a = _maps(a, "a")
        a, ds = _pair(a, ds, "a", "ds")
        dflat = Softmax(-1, self.temperature).backward(self._flat(a), self._flat(ds))
        return dflat.reshape(a.shape)


class SoftArgmax(SpatialSoftmax):
    r"""The expected image position of each feature: f_c = sum_ij s_cij (x_j, y_i).

    The spatial softmax s of each (H, W) map is a distribution over pixels; soft-argmax
    returns its mean, a differentiable stand-in for the position of the map's maximum.

    Coordinate convention: the output's last axis is (x, y), x along the width (column
    index j) and y along the height (row index i), as in image space. With
    ``normalized=True`` (default, as Levine et al.) x_j = -1 + 2 j / (W - 1) and
    y_i = -1 + 2 i / (H - 1), so the corners are (-1, -1) top-left and (1, 1)
    bottom-right (a map one pixel wide has x = 0); with ``normalized=False`` they are the
    pixel indices, x_j = j and y_i = i.

    Input (..., H, W), e.g. (N, C, H, W); output (..., 2), e.g. (N, C, 2).

    Notes
    -----
    df_x / da_ij = s_ij (x_j - f_x) / T (the same for y), so the backward pass is
    dJ/da_ij = s_ij ((x_j - f_x) g_x + (y_i - f_y) g_y) / T for g = dJ/df.
    """

    def __init__(self, temperature: float = 1.0, normalized: bool = True):
        super().__init__(temperature)
        if not isinstance(normalized, bool | np.bool_):
            raise TypeError(f"normalized must be a bool, got {type(normalized).__name__}")
        self.normalized = bool(normalized)

    def __repr__(self) -> str:
        return f"SoftArgmax(temperature={self.temperature!r}, normalized={self.normalized!r})"

    def coordinates(self, height: int, width: int,
                    dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """(x_j for the W columns, y_i for the H rows)."""
        height, width = operator.index(height), operator.index(width)

        def axis(n):
            if not self.normalized:
                return np.arange(n, dtype=dtype)
            return np.linspace(-1, 1, n, dtype=dtype) if n > 1 else np.zeros(1, dtype)

        return axis(width), axis(height)

    def _expectation(self, a):
        s = super().forward(a)
        xs, ys = self.coordinates(a.shape[-2], a.shape[-1], a.dtype)
        fx = s.sum(axis=-2) @ xs  # the distribution of the column, then its mean
        fy = s.sum(axis=-1) @ ys
        return s, xs, ys, np.stack([fx, fy], axis=-1)

    def forward(self, a: Any) -> np.ndarray:
        """f, of shape (..., 2): (x, y) per map."""
        a = _maps(a, "a")
        return self._expectation(a)[3]

    __call__ = forward

    def backward(self, a: Any, df: Any) -> np.ndarray:
        """dJ/da (the shape of a) from df = dJ/df (shape (..., 2))."""
        a = _maps(a, "a")
        df = as_float_array(df, "df")
        if df.shape != (*a.shape[:-2], 2):
            raise ValueError(f"df has shape {df.shape}; expected {(*a.shape[:-2], 2)} for a of "
                             f"shape {a.shape}")
        dtype = result_dtype(a, df)
        a, df = a.astype(dtype, copy=False), df.astype(dtype, copy=False)
        s, xs, ys, f = self._expectation(a)
        gx, gy = df[..., 0, None, None], df[..., 1, None, None]
        dx = (xs - f[..., 0, None, None]) * gx
        dy = (ys[:, None] - f[..., 1, None, None]) * gy
        return s * (dx + dy) / dtype.type(self.temperature)

