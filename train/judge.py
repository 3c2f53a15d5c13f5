"""The category judge: a small CNN trained on the emoji dataset, used to score generated samples.

Its penultimate features give FID-emoji (a Fréchet distance, as FID but in this domain's own
feature space); its predictions give the category accuracy of class-conditional samples.
Emoji are split by identity (both styles of an emoji on the same side), 85% train / 15% held out.

    /usr/bin/python3 -m train.judge        # trains runs/judge/judge_<data>.pt if missing, prints held-out accuracy

Each dataset build gets its own judge (named by the hash of its images): FID-emoji and accuracy
are only comparable between scores made against the same dataset. A second judge of the same shape
names the style (the emoji set) instead of the category, for restyled images (`eval edit`).
"""
import hashlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

from train.dataset import EmojiData, ROOT


TARGETS = ("category", "style")  # what a judge names


def judge_path(data: EmojiData, target="category"):
    prefix = "judge" if target == "category" else f"{target}_judge"
    return ROOT / "runs" / "judge" / f"{prefix}_{data.info['sha256_x32'][:12]}.pt"


def classes(data: EmojiData, target):
    """(number of classes, class of every dataset row) for a judge of `target`."""
    return (data.n_cat, data.cat) if target == "category" else (data.n_style, data.style)


class Judge(nn.Module):
    def __init__(self, n_classes, width=32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.GroupNorm(8, w), nn.SiLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.SiLU(),  # 16×16
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 4 * w), nn.SiLU(),  # 8×8
            nn.Conv2d(4 * w, 4 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 4 * w), nn.SiLU(),  # 4×4
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, n_classes)

    def forward(self, x):  # x (B, 3, 32, 32) in [-1, 1]
        return self.head(self.features(x))


def held_out_mask(data: EmojiData):
    """True for emoji in the held-out 15%, decided by a hash of the name (stable across builds)."""
    return np.array([int(hashlib.sha256(n.encode()).hexdigest(), 16) % 100 < 15 for n in data.info["names"]])


def images(data, idx):
    return torch.from_numpy(data.x32[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1


def augment(x, gen):
    """Random shifts by up to 2 pixels (white fill) and a little noise: samples are not pixel-perfect."""
    B = x.shape[0]
    pad = Fn.pad(x, (2, 2, 2, 2), value=1.0)
    dy, dx = torch.randint(0, 5, (2,), generator=gen).tolist()
    x = pad[:, :, dy:dy + 32, dx:dx + 32]
    return x + 0.1 * torch.rand(B, 1, 1, 1, generator=gen) * torch.randn(x.shape, generator=gen)


def train_judge(data: EmojiData, epochs=12, seed=0, target="category"):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    held = held_out_mask(data)
    tr = np.flatnonzero(~held)
    n_classes, label = classes(data, target)
    model = Judge(n_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * ((len(tr) + 63) // 64))
    x_all, y_all = images(data, tr), torch.from_numpy(label[tr])
    for ep in range(epochs):
        perm = torch.randperm(len(tr), generator=gen)
        model.train()
        for i in range(0, len(tr), 64):
            b = perm[i:i + 64]
            loss = Fn.cross_entropy(model(augment(x_all[b], gen)), y_all[b], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"judge epoch {ep + 1}/{epochs}: loss {loss.item():.3f}", flush=True)
    model.eval()
    acc = accuracy(model, images(data, np.flatnonzero(held)), torch.from_numpy(label[held]))
    path = judge_path(data, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "n_classes": n_classes, "held_out_accuracy": acc,
                "categories": data.info["categories" if target == "category" else "styles"]}, path)
    return model, acc


def load_judge(data: EmojiData, target="category"):
    """The judge of this dataset naming `target`, trained first if it is missing (a few CPU minutes)."""
    if not judge_path(data, target).exists():
        return train_judge(data, target=target)
    ck = torch.load(judge_path(data, target), weights_only=False)
    model = Judge(ck["n_classes"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck["held_out_accuracy"]


@torch.no_grad()
def features(model, x, batch=256):
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]).double()


@torch.no_grad()
def accuracy(model, x, y):
    pred = torch.cat([model(x[i:i + 256]).argmax(1) for i in range(0, len(x), 256)])
    return float((pred == y).float().mean())


def frechet(f1, f2):
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = torch.cov(f1.T), torch.cov(f2.T)
    w, v = torch.linalg.eigh(s1)
    s1h = v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T
    tr_sqrt = torch.linalg.eigvalsh(s1h @ s2 @ s1h).clamp(min=0).sqrt().sum()
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * tr_sqrt)


if __name__ == "__main__":
    torch.set_num_threads(2)
    d = EmojiData()
    _, acc = train_judge(d)
    print(f"judge held-out accuracy {acc:.3f} → {judge_path(d)}")
