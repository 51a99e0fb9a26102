"""The GPT trainer's recipe (src/train/gpt-trainer.ts) in PyTorch 1.13, started from webgrad's initial
weights and fed webgrad's training windows, to tell webgrad's arithmetic from the luck of a seed.
Not part of the tests; with Debian's python3-torch, after scripts/gpt-init.ts wrote the weights:

  /usr/bin/python3 scripts/gpt-replica.py out/gpt-init.safetensors [steps=1800] [lr=0.01] [wd=0.1]
      [floor=0.1] [warm=100] [H=4] [printSteps=0] [evalEvery=100]

The model: token + position embeddings, pre-LayerNorm blocks (no biases anywhere) of causal attention
and a GELU MLP, a final LayerNorm, the head tied to the token embedding. AdamW (betas 0.9, 0.99; decay
on the matrices), linear warm-up then a half cosine to floor * lr, gradients clipped at norm 1.0.
Windows: Mulberry32 (data/batches.ts) over the same corpus and split as wg.data.text. printSteps=N
prints the first N steps' loss and gradient norm, to compare with webgrad's step by step.
Prints the validation loss on webgrad's 1,024 final windows (seed 12345) at the end."""
import json, math, os, re, struct, sys, time
import numpy as np, torch
from gpt_torch import Gpt, webgrad_name

torch.set_num_threads(1)
a = dict(steps=1800, lr=0.01, wd=0.1, floor=0.1, warm=100, H=4, printSteps=0, evalEvery=100, B=16)
init_path = sys.argv[1]
for kv in sys.argv[2:]:
    k, v = kv.split("=")
    a[k] = type(a[k])(float(v)) if isinstance(a[k], float) else int(v)

# The corpus as wg.data.text builds it (data/fortunes.ts): every fortune file with a .dat index, in name order.
d = "/usr/share/games/fortunes"
names = sorted(n[:-4] for n in os.listdir(d) if n.endswith(".dat") and os.path.exists(os.path.join(d, n[:-4])))
text = "".join(re.sub(r"(?m)^%$", "", open(os.path.join(d, n), encoding="utf8").read()) for n in names)

f = open(init_path, "rb")
n = struct.unpack("<Q", f.read(8))[0]
header = json.loads(f.read(n))
buf = f.read()
meta = header.pop("__metadata__")
vocab = json.loads(meta["vocab"])
assert vocab == sorted(set(text)), "the corpus differs from the one webgrad read"
W = {k: torch.tensor(np.frombuffer(buf[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.float32).reshape(v["shape"]).copy()) for k, v in header.items()}
idx = {c: i for i, c in enumerate(vocab)}
data = torch.tensor([idx[c] for c in text], dtype=torch.long)
cut = math.floor(len(data) * 0.9)
train, val = data[:cut], data[cut:]
V, C = W["tokens.weight"].shape
T = W["positions.weight"].shape[0]
L = len({k.split(".")[1] for k in W if k.startswith("blocks.")})
H = a["H"]

m = Gpt(V, T, L, H, C)
sd = m.state_dict()
for k in sd: sd[k] = W[webgrad_name(k)]
m.load_state_dict(sd)
ps = list(m.parameters())
opt = torch.optim.AdamW([{"params": [p for p in ps if p.ndim >= 2], "weight_decay": a["wd"]}, {"params": [p for p in ps if p.ndim < 2], "weight_decay": 0}], lr=a["lr"], betas=(0.9, 0.99))
S, w = a["steps"], max(1, min(a["warm"], a["steps"] - 1))
def factor(i):
    if i < w: return 1 / w + (1 - 1 / w) * i / w
    return a["floor"] + (1 - a["floor"]) * 0.5 * (1 + math.cos(math.pi * (i - w) / max(1, S - w)))
sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)

class Mulberry32:
    """data/batches.ts's Rng."""
    def __init__(s, seed): s.state = seed & 0xFFFFFFFF
    def next(s):
        s.state = (s.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = s.state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    def int(s, n): return math.floor(s.next() * n)

def windows(src, B, rng):
    starts = [rng.int(len(src) - T) for _ in range(B)]
    return torch.stack([src[i:i + T] for i in starts]), torch.stack([src[i + 1:i + T + 1] for i in starts])

def validation(batches):
    rng = Mulberry32(12345)
    with torch.no_grad(): return sum(m(*windows(val, a["B"], rng)).item() for _ in range(batches)) / batches

rng, t0, since = Mulberry32(0), time.time(), 0.0
for i in range(1, S + 1):
    x, y = windows(train, a["B"], rng)
    loss = m(x, y)
    opt.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    opt.step()
    sched.step()
    since += loss.item()
    if i <= a["printSteps"]: print(f"step {i} loss {loss.item():.5f} norm {float(norm):.4f}", flush=True)
    if i % a["evalEvery"] == 0 or i == S:
        print(f"step {i}: train {since / a['evalEvery']:.4f}, validation (8 batches) {validation(8):.4f}, {time.time() - t0:.0f} s", flush=True)
        since = 0.0
print(f"final validation loss on webgrad's 1,024 windows: {validation(64):.4f}")
