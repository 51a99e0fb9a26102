"""webgrad's GPT (src/train/gpt.ts) in PyTorch 1.13, for scripts/gpt-golden.py and scripts/gpt-replica.py:
token + position embeddings, pre-LayerNorm blocks of causal attention and a GELU MLP, a final LayerNorm,
the head tied to the token embedding, no biases anywhere."""
import math
import torch, torch.nn as nn, torch.nn.functional as F


def _no_bias(ln):
    ln.register_parameter("bias", None)
    return ln


class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__()
        s.C, s.H = C, H
        s.ln1, s.ln2 = _no_bias(nn.LayerNorm(C)), _no_bias(nn.LayerNorm(C))
        s.qkv, s.proj = nn.Linear(C, 3 * C, bias=False), nn.Linear(C, C, bias=False)
        s.fc, s.out = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)

    def forward(s, x):
        B, T, C = x.shape
        H = s.H
        q, k, v = s.qkv(s.ln1(x)).split(C, 2)
        heads = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
        att = (heads(q) @ heads(k).transpose(-1, -2)) / math.sqrt(C // H)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + s.proj((att @ heads(v)).transpose(1, 2).reshape(B, T, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x))))


class Gpt(nn.Module):
    """Parameter names as webgrad's state dict has them, but for blocks.i.qkv/proj (webgrad: blocks.i.attn.qkv/proj)."""

    def __init__(s, V, T, L, H, C):
        super().__init__()
        s.V = V
        s.tokens, s.positions = nn.Embedding(V, C), nn.Embedding(T, C)
        s.blocks = nn.ModuleList([Block(C, H) for _ in range(L)])
        s.lnF = _no_bias(nn.LayerNorm(C))

    def forward(s, x, y):
        h = s.tokens(x) + s.positions.weight[: x.shape[1]]
        for b in s.blocks: h = b(h)
        return F.cross_entropy((s.lnF(h) @ s.tokens.weight.T).reshape(-1, s.V), y.reshape(-1))


def webgrad_name(name):
    """The webgrad state-dict key of a parameter of Gpt."""
    return name.replace(".qkv.", ".attn.qkv.").replace(".proj.", ".attn.proj.")
