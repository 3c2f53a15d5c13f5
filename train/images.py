"""PNG grids of images in [-1, 1]."""
import numpy as np
import torch


def to_uint8(x):
    """(B, 3, H, W) in [-1, 1] → (B, H, W, 3) uint8."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def save_grid(x, path, ncol=8, pad=2):
    from PIL import Image
    imgs = to_uint8(x)
    n, h, w, _ = imgs.shape
    nrow = (n + ncol - 1) // ncol
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = im
    Image.fromarray(grid).save(path)
