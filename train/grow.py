"""Grow a trained stack deeper without changing what it computes, so a GPU window can start a larger
stack from the shipped weights instead of from scratch.

Every added DiT block is a copy of the block it follows, with the two gate rows of its adaLN (g1,
g2) set to zero: with adaLN-Zero a zero gate makes the block x + 0·attn(…) + 0·mlp(…) = x, so the
grown stack computes exactly what the trained one does, and training moves the gates off zero from
the first step (their gradient is the copied branch's output, which is not zero). The added blocks
are interleaved with the trained ones, not stacked on top, as in LLaMA Pro's block expansion (Wu et
al. 2024, arXiv 2401.02415: copies of trained blocks with zeroed output layers, spread through the
stack; its ablation preferred that to stacking them at the top or bottom, not re-checked here):
every stage of the brick gains capacity, and the final layer keeps reading the features it learnt.

A stack can also grow taller: bricks added on top whose regions are larger than the canvas unit (such as a
64×64 brick on a 32×32 stack) start from a fresh initialisation, and are inactive on every canvas they do
not fit, where the grown stack still computes exactly what the trained one did.
"""
from collections import Counter

import torch

from train.lego import LegoConfig, LegoStack


def interleave(old_depth, new_depth):
    """For each block of the deeper brick: (the trained block it starts from, whether it is that
    block itself rather than an added copy). Copies follow the block they copy, spread evenly."""
    if new_depth < old_depth:
        raise ValueError(f"cannot grow a brick from {old_depth} blocks to {new_depth}")
    extra = new_depth - old_depth
    copies = Counter(j * old_depth // extra for j in range(extra))
    plan = []
    for i in range(old_depth):
        plan += [(i, True)] + [(i, False)] * copies[i]
    return plan


def growable(old: LegoConfig, new: LegoConfig):
    """None if `new` is `old` with bricks at least as deep (same regions, patches, width, labels);
    else the first difference, in words."""
    a, b = old.to_dict(), new.to_dict()
    for key in a:
        if key != "bricks" and a[key] != b[key]:
            return f"{key} {a[key]} ≠ {b[key]}"
    added = new.bricks[len(old.bricks):]
    if len(new.bricks) < len(old.bricks) or any(b.region <= new.canvas_unit for b in added):
        return (f"{len(old.bricks)} bricks ≠ {len(new.bricks)} (bricks can only be added on top, with regions "
                f"larger than the canvas unit {new.canvas_unit})")
    for k, (p, q) in enumerate(zip(old.bricks, new.bricks)):
        if (p.region, p.patch) != (q.region, q.patch) or q.depth < p.depth:
            return (f"brick {k} is {p.region}/{p.patch}/{p.depth} (region/patch/depth), "
                    f"{q.region}/{q.patch}/{q.depth} cannot grow from it")
    return None


@torch.no_grad()
def grow(model: LegoStack, cfg: LegoConfig) -> LegoStack:
    """A LegoStack of config `cfg` that computes what `model` computes (see the module doc)."""
    why = growable(model.cfg, cfg)
    if why:
        raise ValueError(f"cannot grow this stack into the requested one: {why}")
    old, d = model.state_dict(), cfg.d
    fresh = LegoStack(cfg).state_dict()
    state = {}
    for name in fresh:
        parts = name.split(".")
        if parts[0] == "bricks" and int(parts[1]) >= len(model.cfg.bricks):
            state[name] = fresh[name]  # an added brick: its zero final layer gives F = 0 until it is trained
        elif parts[0] == "bricks" and parts[2] == "blocks":  # bricks.<k>.blocks.<j>.<rest>
            k, j = int(parts[1]), int(parts[3])
            src, itself = interleave(model.cfg.bricks[k].depth, cfg.bricks[k].depth)[j]
            w = old[".".join(parts[:3] + [str(src)] + parts[4:])].clone()
            if not itself and parts[4] == "adaln":  # rows: shift1, scale1, gate1, shift2, scale2, gate2
                w[2 * d:3 * d] = 0
                w[5 * d:6 * d] = 0
            state[name] = w
        else:
            state[name] = old[name].clone()
    big = LegoStack(cfg)
    big.load_state_dict(state)
    return big.to(next(model.parameters()).device)
