"""How the CNN trainer's default design was chosen (src/train/models.ts, CNN_WIDTHS and CNN_EPOCHS): the same
architecture and recipe as `webgrad train --model cnn` in PyTorch 1.13 on the CPU, for its test accuracy per
epoch on Fashion-MNIST. Not part of the tests; run it with Debian's python3-torch:

  /usr/bin/python3 scripts/cnn-design.py WIDTHS EPOCHS BATCH LR SEED [LABEL_SMOOTHING]
  /usr/bin/python3 scripts/cnn-design.py 16-32-64-128 2 64 2e-3 0

WIDTHS: c1-c2-h (two conv-BN-ReLU-maxpool blocks, then linear h) or c1-c2-c3-h (a third conv-BN-ReLU
block on the 7x7 grid, unpooled). Then linear-ReLU-dropout(0.25), linear; AdamW (weight decay 1e-4),
cosine to 0 over all steps, one thread."""
import gzip, sys, time, numpy as np, torch, torch.nn as nn
torch.set_num_threads(1)
d = "/usr/share/datasets/fashion-mnist/"
def imgs(f): return np.frombuffer(gzip.open(d + f).read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
def labs(f): return np.frombuffer(gzip.open(d + f).read(), np.uint8, offset=8).astype(np.int64)
xtr, ytr, xte, yte = map(torch.tensor, (imgs("train-images-idx3-ubyte.gz"), labs("train-labels-idx1-ubyte.gz"), imgs("t10k-images-idx3-ubyte.gz"), labs("t10k-labels-idx1-ubyte.gz")))
widths = list(map(int, sys.argv[1].split("-"))); epochs = int(sys.argv[2]); bs = int(sys.argv[3]); lr = float(sys.argv[4]); seed = int(sys.argv[5]); ls = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
torch.manual_seed(seed)
blk = lambda i, o, pool=True: [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()] + ([nn.MaxPool2d(2)] if pool else [])
*convs, h = widths
layers = blk(1, convs[0]) + blk(convs[0], convs[1])
if len(convs) == 3: layers += blk(convs[1], convs[2], False)
m = nn.Sequential(*layers, nn.Flatten(), nn.Linear(convs[-1] * 49, h), nn.ReLU(), nn.Dropout(0.25), nn.Linear(h, 10))
opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=1e-4)
steps = epochs * ((60000 + bs - 1) // bs)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + np.cos(np.pi * t / steps)))
t0 = time.time(); accs = []
for e in range(epochs):
    m.train(); perm = torch.randperm(60000)
    for i in range(0, 60000, bs):
        idx = perm[i:i + bs]
        opt.zero_grad(); nn.functional.cross_entropy(m(xtr[idx]), ytr[idx], label_smoothing=ls).backward(); opt.step(); sched.step()
    m.eval()
    with torch.no_grad(): acc = (m(xte).argmax(1) == yte).float().mean().item()
    accs.append(round(acc, 4)); print(f"epoch {e+1}: {acc:.4f} {time.time()-t0:.0f}s", flush=True)
print(f"{sys.argv[1:]}: accs {accs} ({time.time()-t0:.0f}s)")
