"""Losses and gradient norms of 12 AdamW steps of a tiny GPT in PyTorch, for test/gpt-golden.test.ts
(run once: /usr/bin/python3 scripts/gpt-golden.py > test/fixtures/gpt-golden.json).
The weights and batches come from formulas that the test repeats, so no weight file is needed:
the test checks that webgrad's model, loss, backward, clipping and AdamW are PyTorch's, step by step."""
import json, math
import torch
from gpt_torch import Gpt, webgrad_name

torch.set_num_threads(1)
V, T, L, H, C, B, STEPS = 11, 8, 2, 2, 8, 4, 12

def init(name, shape):
    """Element i of parameter `name`: LayerNorm weights near 1, the others small, by a fixed formula."""
    k = sum(map(ord, name)) % 97
    n = math.prod(shape)
    if name.endswith("ln1.weight") or name.endswith("ln2.weight") or name == "lnF.weight":
        vals = [1 + 0.05 * math.cos(i + k) for i in range(n)]
    else:
        vals = [0.2 * math.sin(1.3 * i + 0.7 * k) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)

def batch(s):
    x = [[(7 * b + 3 * t + 5 * s + (b * t) % 3) % V for t in range(T)] for b in range(B)]
    y = [[(3 * v + t + s) % V for t, v in enumerate(row)] for row in x]
    return torch.tensor(x), torch.tensor(y)

m = Gpt(V, T, L, H, C)
with torch.no_grad():
    for name, p in m.named_parameters(): p.copy_(init(webgrad_name(name), list(p.shape)))
ps = list(m.parameters())
opt = torch.optim.AdamW([{"params": [p for p in ps if p.ndim >= 2], "weight_decay": 0.1},
                         {"params": [p for p in ps if p.ndim < 2], "weight_decay": 0.0}], lr=1e-2, betas=(0.9, 0.99))
losses, norms = [], []
for s in range(STEPS):
    x, y = batch(s)
    loss = m(x, y)
    opt.zero_grad()
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(ps, 1.0).item())
    opt.step()
    losses.append(loss.item())
print(json.dumps({"torch": torch.__version__, "losses": losses, "norms": norms}))
