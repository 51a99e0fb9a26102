"""Losses and gradient norms of 12 AdamW steps of a tiny GPT in PyTorch, for test/gpt-golden.test.ts
(run once: /usr/bin/python3 scripts/gpt-golden.py > test/fixtures/gpt-golden.json).
The weights and batches come from formulas that the test repeats, so no weight file is needed:
the test checks that webgrad's model, loss, backward, clipping and AdamW are PyTorch's, step by step."""
import json, math
import torch, torch.nn as nn, torch.nn.functional as F

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

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj = nn.Linear(C, 3 * C, bias=False), nn.Linear(C, C, bias=False)
        s.fc, s.out = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)
    def forward(s, x):
        q, k, v = s.qkv(s.ln1(x)).split(C, 2)
        heads = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
        att = (heads(q) @ heads(k).transpose(-1, -2)) / math.sqrt(C // H)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + s.proj((att @ heads(v)).transpose(1, 2).reshape(B, T, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x))))

class Gpt(nn.Module):
    def __init__(s):
        super().__init__()
        s.tok, s.pos = nn.Embedding(V, C), nn.Embedding(T, C)
        s.blocks = nn.ModuleList([Block() for _ in range(L)])
        s.lnf = nn.LayerNorm(C)
    def forward(s, x, y):
        h = s.tok(x) + s.pos.weight[:T]
        for b in s.blocks: h = b(h)
        return F.cross_entropy((s.lnf(h) @ s.tok.weight.T).reshape(-1, V), y.reshape(-1))

m = Gpt()
for mod in m.modules():
    if isinstance(mod, nn.LayerNorm): mod.register_parameter("bias", None)  # webgrad's GPT has no biases
rename = {"tok.weight": "tokens.weight", "pos.weight": "positions.weight", "lnf.weight": "lnF.weight"}
with torch.no_grad():
    for name, p in m.named_parameters():
        wname = rename.get(name) or name.replace(".qkv.", ".attn.qkv.").replace(".proj.", ".attn.proj.")
        p.copy_(init(wname, list(p.shape)))
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
