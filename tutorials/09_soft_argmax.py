"""
Finding a bright blob with soft-argmax
======================================

The arg max of an image, the position of its brightest pixel, has no useful gradient:
move a pixel's value a little and the answer either does not change or jumps. The
*soft*-argmax (Levine et al., 2016) replaces it with an expectation: a spatial softmax
turns the map a into a distribution over pixels, s_ij = e^{a_ij} / sum e^{a_i'j'}, and
the position is its mean, (sum_ij s_ij x_j, sum_ij s_ij y_i). That is differentiable in
every pixel, so it can be trained end to end.

The model here is as small as it gets: a learned 3 x 3 filter w, a = w * image (a
convolution), then soft-argmax. Trained on noisy images of one Gaussian blob to output
the blob's centre, the filter learns to smooth the noise away and, through its size, the
sharpness of the softmax (the temperature).
"""
# %%
import json
import os

import matplotlib
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if not os.environ.get("DISPLAY"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neuronlab as nl

FIGURES = os.environ.get("NEURONLAB_FIGURES", ".")
SIZE, BLOB_SIGMA, NOISE = 16, 1.2, 0.25


def make_images(n, rng):
    """n noisy images with one Gaussian blob each, and the blob centres (x, y) in pixels."""
    centres = rng.uniform(1.5, SIZE - 2.5, size=(n, 2))
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    dx = cols[None] - centres[:, 0, None, None]
    dy = rows[None] - centres[:, 1, None, None]
    images = np.exp(-(dx**2 + dy**2) / (2 * BLOB_SIGMA**2))
    return images + rng.normal(0.0, NOISE, images.shape), centres


rng = np.random.default_rng(0)
train_images, train_centres = make_images(200, rng)
test_images, test_centres = make_images(200, rng)

# %%
# The model. ``SoftArgmax`` returns (x, y) in [-1, 1] (``normalized=True``), so we
# convert pixel positions to that scale and back.
soft_argmax = nl.softmax.SoftArgmax(normalized=True)
scale = (SIZE - 1) / 2                             # pixel = (normalized + 1) * scale


def patches(images):
    """Every pixel's 3 x 3 neighbourhood (zero padded), one row of 9 per pixel:
    shape (n H W, 9), so that the convolution is one matrix product."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    return sliding_window_view(padded, (3, 3), axis=(1, 2)).reshape(-1, 9)


def predict(w, P):
    a = (P @ w.ravel()).reshape(-1, SIZE, SIZE)     # a = w * image
    return a, soft_argmax(a)


def pixel_error(w, images, centres):
    _, f = predict(w, patches(images))
    return float(np.mean(np.linalg.norm((f + 1) * scale - centres, axis=1)))


# %%
# Training: mean squared error between predicted and true normalized positions, its
# gradient back through soft-argmax to a, then to w: dJ/dw_pq = sum_nij dJ/da_nij
# times the pixel at offset (p, q) from (i, j), one matrix product.
w = np.random.default_rng(1).normal(0.0, 0.1, (3, 3))
P = patches(train_images)
target = train_centres / scale - 1
loss = nl.losses.MeanSquaredError()
opt = nl.optim.Adam(0.05)
error_at_init = pixel_error(w, test_images, test_centres)
history = []
for _ in range(300):
    a, f = predict(w, P)
    J, df = loss.loss_and_gradient(f, target)
    da = soft_argmax.backward(a, df)
    dw = (da.reshape(-1) @ P).reshape(3, 3)
    opt.step([(w, dw)])
    history.append(J)

error_trained = pixel_error(w, test_images, test_centres)
hard = np.array([np.unravel_index(np.argmax(im), im.shape)[::-1] for im in test_images])
error_hard_argmax = float(np.mean(np.linalg.norm(hard - test_centres, axis=1)))
print(f"mean localisation error on {len(test_images)} test images: {error_at_init:.2f} px at init, "
      f"{error_trained:.2f} px trained (hard arg max of the raw image: "
      f"{error_hard_argmax:.2f} px)")
print("learned filter:\n", np.array2string(w, precision=2))

# %%
# Six test images with the true centre (+) and the trained soft-argmax (x).
a_test, f_test = predict(w, patches(test_images[:6]))
fig, axes = plt.subplots(2, 6, figsize=(12, 4.4))
for k in range(6):
    s = nl.softmax.SpatialSoftmax()(a_test[k])
    for ax, im, title in ((axes[0, k], test_images[k], "image"), (axes[1, k], s, "softmax s")):
        ax.imshow(im, cmap="gray" if title == "image" else "magma")
        ax.plot(*test_centres[k], "c+", ms=12, mew=2)
        ax.plot(*((f_test[k] + 1) * scale), "rx", ms=9, mew=2)
        ax.set(title=title, xticks=[], yticks=[])
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "09_soft_argmax.png"))

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(history)
ax.set(xlabel="step", ylabel="mean squared error", title="training the filter")
fig.tight_layout()
fig.savefig(os.path.join(FIGURES, "09_soft_argmax_loss.png"))

# %%
print("RESULT", json.dumps({"error_at_init_px": error_at_init, "error_trained_px": error_trained,
                            "error_hard_argmax_px": error_hard_argmax,
                            "loss_first": history[0], "loss_last": history[-1],
                            "filter": w.tolist()}))
