"""LEGO bricks diffusion backbone: the PyTorch reference (docs/model-spec.md is this file in words).

A stack is data: a list of bricks {region, patch, depth}. Every brick returns a full-resolution
output F_k; the EDM denoiser of brick k is D_k = c_skip·x + c_out·F_k.
"""
import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as Fn

SIGMA_DATA = 0.5


@dataclass
class Brick:
    region: int  # r: side of the square regions that are independent sequences
    patch: int  # p: side of one token's patch
    depth: int  # N: DiT blocks


@dataclass
class LegoConfig:
    bricks: list = field(default_factory=lambda: [Brick(4, 2, 2), Brick(16, 4, 3), Brick(32, 2, 4)])
    d: int = 192
    heads: int = 6
    label_dim: int = 0
    channels: int = 3
    mlp_ratio: int = 4
    fourier_dim: int = 256
    # every canvas side is a multiple of it (0: the largest region). A brick of a larger region runs only on
    # canvases it fits (see fits), covering them with overlapping regions where they are not multiples of it.
    canvas_unit: int = 0

    def __post_init__(self):
        self.bricks = [b if isinstance(b, Brick) else Brick(**b) for b in self.bricks]
        assert self.d % 4 == 0 and self.d % self.heads == 0
        self.canvas_unit = self.canvas_unit or self.max_region
        if all(b.region != self.canvas_unit for b in self.bricks):
            raise ValueError(f"canvas_unit {self.canvas_unit} is the region of no brick")
        for k, b in enumerate(self.bricks):
            assert b.region % b.patch == 0
            if self.canvas_unit % b.patch or (b.region <= self.canvas_unit and self.canvas_unit % b.region):
                raise ValueError(f"brick {k} ({b.region}/{b.patch}): canvas_unit {self.canvas_unit} must be a multiple "
                                 f"of every patch and of every region up to it")

    def to_dict(self):
        return asdict(self)

    @property
    def max_region(self):
        return max(b.region for b in self.bricks)

    def input_channels(self, k):
        """Brick k's input channels: F_prev (above the first brick), c_in·x, row, col."""
        return (0 if k == 0 else self.channels) + self.channels + 2

    def flops(self, h=32, w=32, only=None):
        """Multiply-add FLOPs (×2) of one network evaluation of one h×w image with every brick on (or the
        bricks `only`): the matmuls and attention, which are nearly all of the work. A brick counts the
        tokens of the regions it runs, overlapping ones included; an inactive brick nothing."""
        d, total = self.d, 0
        for k, b in enumerate(self.bricks):
            if not fits(b.region, h, w) or (only is not None and k not in only):
                continue
            seq = (b.region // b.patch) ** 2
            tokens = len(region_origins(h, b.region, b.patch)) * len(region_origins(w, b.region, b.patch)) * seq
            total += tokens * (self.input_channels(k) * b.patch ** 2 * d + d * d)  # patch MLP
            total += b.depth * tokens * ((4 + 2 * self.mlp_ratio) * d * d + 2 * seq * d)  # qkv, proj, MLP; qk, pv
            total += tokens * d * b.patch ** 2 * self.channels  # final linear
        return 2 * total


def fits(region, h, w):
    """Whether a brick of this region runs on an h×w canvas. One whose region is longer than a side is
    inactive there, as if skipped at every step: it never saw such a token grid in training."""
    return region <= h and region <= w


def region_origins(side, region, patch):
    """First pixel of each region along one canvas side: ⌈side/region⌉ regions spread evenly from 0 to
    side − region (the last flush with the far edge), at multiples of the patch. On a multiple of the
    region this is plain tiling (i·region); otherwise neighbours overlap and the fold averages them."""
    n = -(-side // region)
    span = (side - region) // patch  # patches from the first origin to the last
    return [patch * (i * span // (n - 1)) for i in range(n)] if n > 1 else [0]


ROLLED = "rolled"  # shift= on the sampler's odd steps: each brick's rolled tiling (rolled_shifts)


def rolled_shifts(cfg, h, w):
    """Per brick, its region-grid shift (sy, sx) on the sampler's odd steps on an h×w canvas (None where it
    is inactive). Along a side longer than U, the largest region that runs on this canvas, every brick
    that tiles that side exactly shifts by U/2 modulo its own region (U's brick by half its region, the
    smaller regions nested in it by nothing); a brick whose regions cover the side (one region, or
    overlapping ones) never shifts along it, and no brick shifts along a side of U or less."""
    top = max(b.region for b in cfg.bricks if fits(b.region, h, w))
    return [tuple((top // 2) % b.region if side > top and side % b.region == 0 else 0 for side in (h, w))
            if fits(b.region, h, w) else None for b in cfg.bricks]


def layer_norm(x):
    return Fn.layer_norm(x, x.shape[-1:], eps=1e-6)


def fourier_embed(c_noise, dim=256):
    """[B] → [B, dim]: cos then sin of 1000·c_noise·f_i, f_i = 10000^(-i/(dim/2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = 1000.0 * c_noise.float()[:, None] * freqs.to(c_noise.device)[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def pos_embed_2d(g, d):
    """Fixed sin-cos table [g·g, d] for a g×g token grid: column features, then row features."""
    q = d // 4
    omega = 10000.0 ** (-torch.arange(q, dtype=torch.float64) / q)
    t = torch.arange(g, dtype=torch.float64)
    ty, tx = torch.meshgrid(t, t, indexing="ij")
    ax = tx.reshape(-1, 1) * omega
    ay = ty.reshape(-1, 1) * omega
    return torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()], dim=1).float()


def coords(h, w, row0=0, col0=0, full_h=None, full_w=None, device=None):
    """[2, h, w] pixel-centre coordinates in [-1, 1]; a crop at (row0, col0) of a full_h×full_w
    canvas gets that canvas's coordinates."""
    full_h, full_w = full_h or h, full_w or w
    r = (2 * (torch.arange(h, device=device) + row0) + 1) / full_h - 1
    c = (2 * (torch.arange(w, device=device) + col0) + 1) / full_w - 1
    return torch.stack([r[:, None].expand(h, w), c[None, :].expand(h, w)]).float()


SHORT_TOKENS = 16  # attention over at most this many tokens runs as plain matmuls + softmax (see attention)


def attention(q, k, v, short=SHORT_TOKENS):
    """softmax(q·kᵀ/√dh)·v over the last two dims. Long sequences go to PyTorch ≥ 2.0's fused SDPA.
    Short ones (the 4-token regions of the small bricks: ~200 k sequences per call at batch 512) run
    as batched matmuls and a softmax, which a compiler fuses with the work around them; SDPA's
    kernels tile 64–128 queries and would spend a nearly empty tile on each."""
    if q.shape[-2] > short and hasattr(Fn, "scaled_dot_product_attention"):
        return Fn.scaled_dot_product_attention(q, k, v)
    return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1) @ v


def roll(x, sy, sx):
    """torch.roll(x, (sy, sx), dims=(2, 3)) as two gathers by index tensors: the offsets may be
    tensors, so a compiled graph does not depend on their values."""
    H, W = x.shape[-2:]
    rows = (torch.arange(H, device=x.device) - sy) % H
    cols = (torch.arange(W, device=x.device) - sx) % W
    return x.index_select(2, rows).index_select(3, cols)


def modulate(x, shift, scale):
    # x (B, R, T, d); shift, scale (B, d): one vector per image, broadcast over its regions/tokens
    return x * (1 + scale[:, None, None]) + shift[:, None, None]


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.short = SHORT_TOKENS  # 0: every sequence through SDPA (the trainer's old path, for comparison)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):  # (B, R, T, d)
        B, R, T, d = x.shape
        qkv = self.qkv(x).reshape(B * R, T, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B·R, heads, T, dh)
        return self.proj(attention(q, k, v, self.short).transpose(1, 2).reshape(B, R, T, d))


class Block(nn.Module):
    """DiT block with adaLN-Zero over the tokens of each region."""

    def __init__(self, d, heads, mlp_ratio):
        super().__init__()
        self.adaln = nn.Linear(d, 6 * d)
        self.attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, mlp_ratio * d), nn.GELU(approximate="tanh"),
                                 nn.Linear(mlp_ratio * d, d))
        nn.init.zeros_(self.adaln.weight)
        nn.init.zeros_(self.adaln.bias)

    def forward(self, x, silu_c):  # x (B, R, T, d), silu_c (B, d)
        sh1, sc1, g1, sh2, sc2, g2 = self.adaln(silu_c).chunk(6, dim=1)
        x = x + g1[:, None, None] * self.attn(modulate(layer_norm(x), sh1, sc1))
        return x + g2[:, None, None] * self.mlp(modulate(layer_norm(x), sh2, sc2))


class FinalLayer(nn.Module):
    def __init__(self, d, out):
        super().__init__()
        self.adaln = nn.Linear(d, 2 * d)
        self.linear = nn.Linear(d, out)
        for m in (self.adaln, self.linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x, silu_c):
        shift, scale = self.adaln(silu_c).chunk(2, dim=1)
        return self.linear(modulate(layer_norm(x), shift, scale))


class LegoBrick(nn.Module):
    def __init__(self, cfg: LegoConfig, spec: Brick, k: int):
        super().__init__()
        self.r, self.p = spec.region, spec.patch
        self.c_in = cfg.input_channels(k)
        d = cfg.d
        self.patch = nn.Sequential(nn.Linear(self.c_in * self.p ** 2, d), nn.GELU(approximate="tanh"),
                                   nn.Linear(d, d))
        self.register_buffer("pos", pos_embed_2d(self.r // self.p, d), persistent=False)
        self.blocks = nn.ModuleList(Block(d, cfg.heads, cfg.mlp_ratio) for _ in range(spec.depth))
        self.final = FinalLayer(d, self.p ** 2 * cfg.channels)

    def tile(self, x):
        """(B, C, H, W) → (B, R, T, C·p²) with regions and tokens row-major, patch order (c, py, px)."""
        B, C, H, W = x.shape
        r, p, g = self.r, self.p, self.r // self.p
        x = x.reshape(B, C, H // r, g, p, W // r, g, p)  # (B, C, Ry, ty, py, Rx, tx, px)
        x = x.permute(0, 2, 5, 3, 6, 1, 4, 7)  # (B, Ry, Rx, ty, tx, C, py, px)
        return x.reshape(B, (H // r) * (W // r), g * g, C * p * p)

    def untile(self, t, H, W):
        """(B, R, T, C·p²) → (B, C, H, W), the inverse of tile."""
        B = t.shape[0]
        r, p, g = self.r, self.p, self.r // self.p
        C = t.shape[-1] // (p * p)
        t = t.reshape(B, H // r, W // r, g, g, C, p, p).permute(0, 5, 1, 3, 6, 2, 4, 7)
        return t.reshape(B, C, H, W)

    def regions(self, inp, silu_c):
        """(B, Cin, H, W), sides multiples of the region → (B, 3, H, W): every region on its own."""
        x = self.patch(self.tile(inp)) + self.pos  # (B, R, T, d)
        for blk in self.blocks:
            x = blk(x, silu_c)
        return self.untile(self.final(x, silu_c), *inp.shape[-2:])

    def forward(self, inp, silu_c, shift=None):
        """inp (B, Cin, H, W) → F (B, 3, H, W). shift (sy, sx) moves the region grid by that many
        pixels, wrapping around: Python ints, or a tensor of two (the trainer's random offsets, so
        that a compiled brick sees one graph whatever the offset); None or (0, 0): no shift.
        A side that is not a multiple of the region is covered by overlapping regions (covered)."""
        H, W = inp.shape[-2:]
        assert fits(self.r, H, W), f"a {self.r}×{self.r} region does not fit a {H}×{W} canvas"
        if H % self.r or W % self.r:
            return self.covered(inp, silu_c, shift)
        shifted = shift is not None and (torch.is_tensor(shift) or any(shift))
        if shifted:
            inp = roll(inp, -shift[0], -shift[1])
        out = self.regions(inp, silu_c)
        return roll(out, shift[0], shift[1]) if shifted else out

    def covered(self, inp, silu_c, shift=None):
        """Overlapping regions (region_origins) along the sides that are not multiples of the region,
        plain tiling shifted by `shift` along the others: the regions are gathered into a canvas of
        whole regions, run, and folded back, each pixel the mean of the regions that cover it."""
        B, _, H, W = inp.shape
        idx = []
        for side, s in zip((H, W), shift if shift is not None else (0, 0)):
            origins = torch.tensor(region_origins(side, self.r, self.p), device=inp.device)
            s = s if side % self.r == 0 else 0  # a covered side never shifts
            idx.append(((origins[:, None] + torch.arange(self.r, device=inp.device) + s) % side).reshape(-1))
        rows, cols = idx  # source row / column of each row / column of the gathered canvas
        f = self.regions(inp.index_select(2, rows).index_select(3, cols), silu_c)  # (B, 3, ny·r, nx·r)
        out = f.new_zeros(B, f.shape[1], H, f.shape[3]).index_add_(2, rows, f)
        out = f.new_zeros(B, f.shape[1], H, W).index_add_(3, cols, out)
        count = torch.bincount(rows, minlength=H)[:, None] * torch.bincount(cols, minlength=W)[None]
        return out / count


class LegoStack(nn.Module):
    def __init__(self, cfg: LegoConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d
        self.t_embed = nn.Sequential(nn.Linear(cfg.fourier_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.y_embed = nn.Linear(max(cfg.label_dim, 1), d)
        self.bricks = nn.ModuleList(LegoBrick(cfg, b, k) for k, b in enumerate(cfg.bricks))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear) and m.weight.abs().sum() > 0:  # keep adaLN-Zero zeros
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def condition(self, sigma, labels):
        c_noise = torch.log(sigma) / 4
        return self.t_embed(fourier_embed(c_noise, self.cfg.fourier_dim)) + self.y_embed(labels)

    def forward(self, x, sigma, labels, active=None, coord=None, shift=None, shifts=None):
        """Every active brick's D_k: list of (brick index, D_k (B, 3, H, W)).

        x (B, 3, H, W) noisy image; sigma (B,); labels (B, L); active: brick indices on (default
        all; a brick that does not fit the canvas never runs, see fits); coord (B or 1, 2, H, W)
        coordinate channels (default: the whole canvas); shift: one region-grid shift for all
        bricks, or ROLLED (each brick's own, rolled_shifts), or shifts: one per brick.
        """
        B, _, H, W = x.shape
        runs = [k for k, b in enumerate(self.cfg.bricks) if fits(b.region, H, W)]
        active = runs if active is None else sorted(set(active) & set(runs))
        if not active:
            raise ValueError(f"no active brick runs on a {H}×{W} canvas (bricks of regions larger than a side are "
                             f"inactive there)")
        if isinstance(shift, str):
            assert shift == ROLLED, shift
            shifts = rolled_shifts(self.cfg, H, W)
        s = sigma.reshape(B, 1, 1, 1).float()
        c_skip = SIGMA_DATA ** 2 / (s ** 2 + SIGMA_DATA ** 2)
        c_out = s * SIGMA_DATA / (s ** 2 + SIGMA_DATA ** 2).sqrt()
        c_in = 1 / (s ** 2 + SIGMA_DATA ** 2).sqrt()
        silu_c = Fn.silu(self.condition(sigma, labels))
        if coord is None:
            coord = coords(H, W, device=x.device)[None]
        base = torch.cat([c_in * x, coord.expand(B, -1, -1, -1)], dim=1)
        outs, f_prev = [], None
        for k in active:
            if k == 0:
                inp = base
            else:
                inp = torch.cat([f_prev if f_prev is not None else torch.zeros_like(x), base], dim=1)
            f_prev = self.bricks[k](inp, silu_c, shifts[k] if shifts else shift)
            outs.append((k, c_skip * x + c_out * f_prev))
        return outs

    def denoise(self, x, sigma, labels, active=None, shift=None):
        return self.forward(x, sigma, labels, active, shift=shift)[-1][1]


def edm_sigmas(steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    i = torch.arange(steps, dtype=torch.float64)
    t = (sigma_max ** (1 / rho) + i / max(steps - 1, 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([t, torch.zeros(1, dtype=torch.float64)])


def edit_steps(steps, strength):
    """Steps an edit runs: the last ⌊strength·steps + ½⌋ of the `steps`-step schedule (0 keeps the
    start image; 1 is a whole generation). Both engines count them the same way (src/engine/start.ts)."""
    return math.floor(strength * steps + 0.5)


@torch.no_grad()
def sample(model, noise, labels, steps=18, cfg_scale=1.0, heun=True, active_at=None, shift_at=None,
           start=None, strength=1.0, mask=None, resample=1, generator=None):
    """EDM Heun/Euler sampler with classifier-free guidance (cond and uncond in one batch).

    noise (B, 3, H, W) ~ N(0, 1); labels (B, L). active_at(i) → active bricks at step i;
    shift_at(i) → region-grid shift at step i (i counts the whole schedule, also in an edit).
    start (3, H, W) or (B, 3, H, W) in [-1, 1]: start from this image (SDEdit): x = start + t_f·noise
    at t_f = t[steps − edit_steps(steps, strength)], then the rest of the schedule. mask (H, W) in
    [0, 1], 1 = redraw (RePaint): after every update the state becomes mask·x + (1 − mask)·(start +
    t'·noise) at its noise level t', so unmasked pixels follow the noised start image and end on it.
    resample > 1: RePaint's resampling (jump length 1), for `eval edit` to measure (the engines leave it
    out): each step is made `resample` times, going back from t_{i+1} to t_i with fresh noise between tries.
    Returns the trajectory [x_first … x_steps] (x_0 … x_steps without a start image).
    """
    t = edm_sigmas(steps)
    B = noise.shape[0]
    guided = cfg_scale != 1.0
    first = 0 if start is None else steps - edit_steps(steps, strength)

    def D(x, sigma, i):
        active = active_at(i) if active_at else None
        shift = shift_at(i) if shift_at else (0, 0)
        if not guided:
            return model.denoise(x, torch.full((B,), sigma, device=x.device), labels, active, shift)
        d = model.denoise(torch.cat([x, x]), torch.full((2 * B,), sigma, device=x.device),
                          torch.cat([labels, torch.zeros_like(labels)]), active, shift)
        return d[B:] + cfg_scale * (d[:B] - d[B:])  # guidance on D equals guidance on F

    def keep(x, sigma):  # RePaint: unmasked pixels back on the start image's noised trajectory
        return x if mask is None else mask * x + (1 - mask) * (start + sigma * noise)

    x = noise.float() * float(t[first]) + (0 if start is None else start)
    traj = [x]
    for i in range(first, steps):
        t0, t1 = float(t[i]), float(t[i + 1])
        for r in range(resample):
            if r:  # back to t0: the variance t0² − t1² that the step took away, drawn afresh
                z = torch.randn(x.shape, generator=generator).to(x.device)
                x = keep(x1 + math.sqrt(t0 ** 2 - t1 ** 2) * z, t0)
            d0 = (x - D(x, t0, i)) / t0
            x1 = keep(x + (t1 - t0) * d0, t1)
            if heun and t1 > 0:
                d1 = (x1 - D(x1, t1, i)) / t1
                x1 = keep(x + (t1 - t0) * 0.5 * (d0 + d1), t1)
        x = x1
        traj.append(x)
    return traj
