"""Literal values for test/conv.test.ts ("PyTorch values"), from PyTorch (run once: /usr/bin/python3 scripts/cnn-golden.py).
Small integer-valued inputs, so the values can also be checked by hand."""
import json
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
out = {}

def grads(y, *xs):
    r = torch.arange(y.numel(), dtype=torch.float64).reshape(y.shape) % 4 - 1  # r = -1, 0, 1, 2, -1, ...
    (y * r).sum().backward()
    return [x.grad.flatten().tolist() for x in xs]

x = torch.tensor([[[[1., 2, 0], [0, 1, 3], [2, 1, 1], [1, 0, 2]]]], requires_grad=True)  # [1, 1, 4, 3]
w = torch.tensor([[[[1., -1], [2, 0]]], [[[0., 1], [1, 1]]]], requires_grad=True)        # [2, 1, 2, 2]
b = torch.tensor([0.5, -1.], requires_grad=True)
y = F.conv2d(x, w, b, stride=[2, 1], padding=1)
out["conv2d"] = {"y": y.flatten().tolist(), "shape": list(y.shape), "grads": grads(y, x, w, b)}

x = torch.tensor([[[[1., 3, 3, 0], [2, 3, 1, 1], [0, 0, 2, 2], [1, 0, 2, 1]]]], requires_grad=True)  # ties
y = F.max_pool2d(x, 2, stride=2)
out["maxPool2d"] = {"y": y.flatten().tolist(), "grads": grads(y, x)}
x2 = x.detach().clone().requires_grad_()
y = F.max_pool2d(x2, 3, stride=1, padding=1)
out["maxPool2dOverlap"] = {"y": y.flatten().tolist(), "grads": grads(y, x2)}
x3 = x.detach().clone().requires_grad_()
y = F.avg_pool2d(x3, 3, stride=2, padding=1)
out["avgPool2d"] = {"y": y.flatten().tolist(), "grads": grads(y, x3)}
x4 = torch.arange(15.).reshape(1, 1, 3, 5).requires_grad_()
y = F.adaptive_avg_pool2d(x4, [2, 3])
out["adaptiveAvgPool2d"] = {"y": y.flatten().tolist(), "grads": grads(y, x4)}

x = torch.tensor([[1., 2], [3, 5], [0, 1], [4, 0]], requires_grad=True)  # [4, 2]
wt = torch.tensor([2., 0.5], requires_grad=True)
bt = torch.tensor([0., 1.], requires_grad=True)
rm, rv = torch.zeros(2), torch.ones(2)
y = F.batch_norm(x, rm, rv, wt, bt, training=True, momentum=0.1, eps=1e-5)
out["batchNorm"] = {"y": y.flatten().tolist(), "grads": grads(y, x, wt, bt), "runningMean": rm.tolist(), "runningVar": rv.tolist()}
y = F.batch_norm(x.detach(), rm, rv, wt.detach(), bt.detach(), training=False, eps=1e-5)
out["batchNormEval"] = {"y": y.flatten().tolist()}

print(json.dumps(out))
