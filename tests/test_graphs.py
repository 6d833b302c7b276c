"""Graphs in from_torch: residual sums, concatenations, products, functional forms and
normalisations, checked against PyTorch (the model's output, and
torch.autograd.functional.jacobian at a point) on reference models written here with their
published structures: ResNet-18, a two-level U-Net, MobileNetV2's inverted residual, a
DenseNet dense block, SqueezeNet's fire module, a squeeze-and-excitation block."""

from __future__ import annotations

import math

import numpy as np
import pytest

import convmat
from convmat import ConvmatError

from .conftest import torch
from .test_networks import _randomise

pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

if torch is not None:
    import torch.nn as nn
    import torch.nn.functional as F
else:  # the classes below are defined only with PyTorch
    nn = None  # type: ignore[assignment]


def _output(model, x):
    with torch.no_grad():
        return model(torch.tensor(x[None])).numpy().ravel()


def _check_affine(model, x):
    """A @ x + b equals the model's output (float64)."""
    a, b = convmat.from_torch(model, x.shape)
    y = _output(model, x)
    assert a.shape == (y.size, x.size)
    np.testing.assert_allclose(a @ x.ravel() + b, y, rtol=0, atol=1e-12 * max(1, abs(y).max()))
    return a, b


def _check_jacobian(model, x, input_shape=None):
    """At x: A equals torch.autograd.functional.jacobian to 1e-12 relative; A x + b = f(x)."""
    a, b = convmat.from_torch(model, input_shape or x.shape, at=x)
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1),
                                             torch.tensor(x[None]), vectorize=True)
    jac = jac.reshape(-1, x.size).numpy()
    scale = max(1.0, np.abs(jac).max())
    np.testing.assert_allclose(a.toarray(), jac, rtol=0, atol=1e-12 * scale)
    y = _output(model, x)
    np.testing.assert_allclose(a @ x.ravel() + b, y, rtol=0, atol=1e-12 * max(1, abs(y).max()))
    return a, b


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ reference models

if torch is not None:
    class BasicBlock(nn.Module):
        """ResNet's basic block (He et al., "Deep residual learning for image
        recognition"): two 3x3 conv-BN, ReLU, the shortcut a 1x1 stride-2 conv-BN when the
        shape changes."""

        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return F.relu(out)

    class ResNet18(nn.Module):
        """ResNet-18: stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool), four stages of two
        basic blocks, global average pool, fc. ``width`` scales the channels (64 in the
        paper) to keep the tests fast."""

        def __init__(self, width=64, classes=10, relu=True):
            super().__init__()
            w = [width, 2 * width, 4 * width, 8 * width]
            self.relu = relu
            self.conv1 = nn.Conv2d(3, w[0], 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(w[0])
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            layers, cin = [], w[0]
            for i, c in enumerate(w):
                stride = 1 if i == 0 else 2
                layers.append(nn.Sequential(BasicBlock(cin, c, stride), BasicBlock(c, c)))
                cin = c
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(w[3], classes)

        def forward(self, x):
            x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class UNet2(nn.Module):
        """A two-level U-Net (Ronneberger et al.): double 3x3 convs, max-pool down,
        ConvTranspose2d up, the skip concatenated on the channels."""

        @staticmethod
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

        def __init__(self, c=2):
            super().__init__()
            self.enc1, self.enc2 = self.block(1, c), self.block(c, 2 * c)
            self.bottom = self.block(2 * c, 4 * c)
            self.up2, self.dec2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, 2), self.block(4 * c, 2 * c)
            self.up1, self.dec1 = nn.ConvTranspose2d(2 * c, c, 2, 2), self.block(2 * c, c)
            self.head = nn.Conv2d(c, 1, 1)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(F.max_pool2d(e1, 2))
            b = self.bottom(F.max_pool2d(e2, 2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    class InvertedResidual(nn.Module):
        """MobileNetV2's inverted residual (Sandler et al.): 1x1 expand, 3x3 depthwise,
        1x1 linear projection, BN and ReLU6, the residual added at stride 1."""

        def __init__(self, c=4, expand=6):
            super().__init__()
            h = c * expand
            self.conv = nn.Sequential(
                nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                nn.Conv2d(h, h, 3, 1, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            return x + self.conv(x)

    class DenseBlock(nn.Module):
        """A DenseNet dense block (Huang et al.): each layer BN-ReLU-1x1 conv (bottleneck)
        -BN-ReLU-3x3 conv, its ``growth`` new channels concatenated to all before."""

        def __init__(self, c=3, growth=2, layers=3):
            super().__init__()
            self.layers = nn.ModuleList(
                nn.Sequential(nn.BatchNorm2d(c + i * growth), nn.ReLU(),
                              nn.Conv2d(c + i * growth, 4 * growth, 1, bias=False),
                              nn.BatchNorm2d(4 * growth), nn.ReLU(),
                              nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False))
                for i in range(layers))

        def forward(self, x):
            features = [x]
            for layer in self.layers:
                features.append(layer(torch.cat(features, 1)))
            return torch.cat(features, 1)

    class Fire(nn.Module):
        """SqueezeNet's fire module (Iandola et al.): 1x1 squeeze, then 1x1 and 3x3
        expands concatenated."""

        def __init__(self, cin=4, squeeze=2, e1=3, e3=3):
            super().__init__()
            self.squeeze = nn.Conv2d(cin, squeeze, 1)
            self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
            self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

        def forward(self, x):
            x = F.relu(self.squeeze(x))
            return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)

    class SqueezeExcitation(nn.Module):
        """A squeeze-and-excitation block (Hu et al.): global average pool, fc-ReLU-fc-
        sigmoid (as 1x1 convs), the channels scaled by the gate."""

        def __init__(self, c=4, r=2):
            super().__init__()
            self.fc1, self.fc2 = nn.Conv2d(c, c // r, 1), nn.Conv2d(c // r, c, 1)

        def forward(self, x):
            s = x.mean((2, 3), keepdim=True)
            s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
            return x * s


# ---------------------------------------------------------------- the reference models

def test_resnet18():
    model = _randomise(ResNet18(width=4))
    x = _x((3, 32, 32))
    a, _ = _check_jacobian(model, x)
    assert a.shape == (10, 3 * 32 * 32)


def test_resnet_basic_blocks_linear_parts():
    # without the ReLUs the residual blocks are affine: A x + b is the output, and the
    # downsample shortcut (1x1 stride-2 conv, BN) is a band added to the main path
    class Linearised(BasicBlock):
        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            return self.bn2(self.conv2(self.bn1(self.conv1(x)))) + identity

    block = _randomise(Linearised(2, 4, stride=2))
    _check_affine(block, _x((2, 8, 8)))
    block = _randomise(Linearised(3, 3))
    a, _ = _check_affine(block, _x((3, 6, 6), 1))
    main = convmat.from_torch(nn.Sequential(block.conv1, block.bn1, block.conv2, block.bn2),
                              (3, 6, 6))[0]
    assert abs(a - main - np.eye(108)).max() < 1e-12  # the identity plus the band


def test_unet():
    model = _randomise(UNet2())
    x = _x((1, 8, 8))
    a, _ = _check_jacobian(model, x)
    assert a.shape == (64, 64)


def test_unet_linear_parts():
    class LinearUNet(UNet2):  # no ReLUs, average pooling: an affine map
        @staticmethod
        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1),
                                 nn.Conv2d(cout, cout, 3, padding=1))

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(F.avg_pool2d(e1, 2))
            b = self.bottom(F.avg_pool2d(e2, 2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    _check_affine(_randomise(LinearUNet()), _x((1, 8, 8)))


def test_mobilenet_v2_inverted_residual():
    model = _randomise(InvertedResidual())
    _check_jacobian(model, _x((4, 6, 6)))
    linear = _randomise(InvertedResidual())
    linear.conv[2] = linear.conv[5] = nn.Identity()  # without ReLU6: affine
    _check_affine(linear, _x((4, 6, 6), 1))


def test_densenet_dense_block():
    model = _randomise(DenseBlock())
    a, _ = _check_jacobian(model, _x((3, 5, 5)))
    assert a.shape == (9 * 25, 3 * 25)
    # the input's channels are copied to the output unchanged: identity rows on top
    assert abs(a[:75] - np.eye(75)).max() == 0
    linear = _randomise(DenseBlock())
    for layer in linear.layers:
        layer[1] = layer[4] = nn.Identity()
    _check_affine(linear, _x((3, 5, 5), 1))


def test_squeezenet_fire_module():
    _check_jacobian(_randomise(Fire()), _x((4, 5, 5)))


def test_squeeze_and_excitation():
    _check_jacobian(_randomise(SqueezeExcitation()), _x((4, 4, 4)))
    with pytest.raises(ConvmatError, match=r"node relu \(ReLU, at test_graphs\.py:\d+: "
                                           r"s = torch\.sigmoid.*pass at=x"):
        convmat.from_torch(_randomise(SqueezeExcitation()), (4, 4, 4))


# -------------------------------------------------------------------- functional forms

if torch is not None:
    class Fn(nn.Module):
        """A model whose forward is ``f(self, x)``; ``modules`` and ``tensors`` become its
        submodules and buffers."""

        def __init__(self, f, modules=None, **tensors):
            super().__init__()
            self.f = f
            self.sub = nn.ModuleDict(modules or {})
            for name, value in tensors.items():
                self.register_buffer(name, value)

        def forward(self, x):
            return self.f(self, x)


def _t(*shape, seed=1):
    return torch.tensor(_x(shape, seed))


def test_functional_convolutions_with_constant_weights():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    cases = [
        (Fn(lambda m, x: F.conv2d(x, m.sub.c.weight, m.sub.c.bias, stride=2, padding=1),
            {"c": conv}), (2, 7, 7)),  # a submodule's own parameters
        (Fn(lambda m, x: F.conv1d(x, m.w, None, 1, 2, 2), w=_t(3, 2, 3)), (2, 9)),
        (Fn(lambda m, x: F.conv2d(x, m.w, groups=2), w=_t(4, 1, 2, 2)), (2, 5, 5)),
        (Fn(lambda m, x: F.conv3d(x, m.w, padding=1), w=_t(1, 2, 2, 2, 2)), (2, 3, 3, 3)),
        (Fn(lambda m, x: F.conv_transpose2d(x, m.w, m.b, stride=2, output_padding=1),
            w=_t(2, 3, 3, 3), b=_t(3)), (2, 4, 4)),
        (Fn(lambda m, x: F.conv_transpose1d(x, m.w, padding=1), w=_t(2, 1, 3)), (2, 6)),
        (Fn(lambda m, x: F.linear(x, m.w, m.b), w=_t(3, 5), b=_t(3)), (2, 5)),
    ]
    for model, shape in cases:
        _check_affine(_randomise(model), _x(shape))


def test_functional_activations_at_a_point():
    functions = [F.relu, F.relu6, torch.sigmoid, torch.tanh, F.gelu, F.silu, F.elu, F.selu,
                 F.celu, F.mish, F.softplus, F.softsign, F.hardswish, F.hardsigmoid,
                 F.logsigmoid, F.tanhshrink, lambda x: F.leaky_relu(x, 0.2),
                 lambda x: F.hardtanh(x, -0.5, 0.5), lambda x: F.threshold(x, 0.1, -1.0),
                 lambda x: F.softshrink(x, 0.3), lambda x: F.hardshrink(x, 0.3),
                 lambda x: x.relu(), lambda x: x.sigmoid(), lambda x: x.tanh()]
    for f in functions:
        _check_jacobian(Fn(lambda m, x, f=f: f(x)).double(), _x((2, 3, 3)))
    prelu = Fn(lambda m, x: F.prelu(x, m.w), w=torch.tensor([0.1, -0.3], dtype=torch.float64))
    _check_jacobian(prelu, _x((2, 3, 3)))


def test_functional_pooling_padding_and_interpolation():
    linear = [
        lambda x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
        lambda x: F.avg_pool1d(x.flatten(2), 3),
        lambda x: F.pad(x, (1, 2, 0, 1), value=0.5),
        lambda x: F.pad(x, (1, 1, 2, 0), mode="reflect"),
        lambda x: F.pad(x, (2, 1, 1, 0), mode="replicate"),
        lambda x: F.pad(x, (1, 1, 1, 1), mode="circular"),
        lambda x: F.interpolate(x, scale_factor=2),
        lambda x: F.interpolate(x, size=(7, 4), mode="bilinear", align_corners=True),
    ]
    for f in linear:
        _check_affine(Fn(lambda m, x, f=f: f(x)).double(), _x((2, 5, 4)))
    for f in [lambda x: F.max_pool2d(x, 2, padding=1), lambda x: F.max_pool2d(x, 3, 1, 1, 2),
              lambda x: F.adaptive_max_pool2d(x, 2)]:
        _check_jacobian(Fn(lambda m, x, f=f: f(x)).double(), _x((2, 5, 4)))


def test_rearrangements_keep_the_batch_axis():
    cases = [
        lambda x: torch.flatten(x, 1), lambda x: x.view(x.size(0), -1),
        lambda x: x.reshape(1, 4, 10), lambda x: x.flatten(2), lambda x: x.permute(0, 2, 3, 1),
        lambda x: x.transpose(2, 3), lambda x: x.unsqueeze(2).squeeze(2),
        lambda x: x[:, :2], lambda x: x[:, 1:, ::2, 1:-1], lambda x: x[..., 0],
        lambda x: torch.split(x, 3, dim=1)[1], lambda x: x.chunk(2, dim=2)[0] * 2.0,
        lambda x: torch.split(x, [1, 3], dim=1)[1].split(2, dim=3)[0],
        lambda x: x.mean((2, 3), keepdim=True), lambda x: x.sum(1), lambda x: x.mean(-1),
        lambda x: x.transpose(1, 3).contiguous().view(1, -1),
    ]
    for f in cases:
        _check_affine(Fn(lambda m, x, f=f: f(x)).double(), _x((4, 2, 5)))


def test_affine_maps_by_constants():
    cases = [
        Fn(lambda m, x: x * 2.0 - 1.0), Fn(lambda m, x: 1.0 - x / 4), Fn(lambda m, x: -x + 3),
        Fn(lambda m, x: (x - m.mean) / m.std, mean=_t(2, 1, 1), std=_t(2, 1, 1).abs() + 1),
        Fn(lambda m, x: m.scale * x + m.shift, scale=_t(3, 4), shift=_t(2, 3, 4)),
        Fn(lambda m, x: 2 * x * m.g, g=nn.Parameter(_t(1, 1, 4)).detach()),
    ]
    for model in cases:
        _check_affine(model, _x((2, 3, 4)))


def test_sums_concatenations_and_products():
    conv = {"a": nn.Conv2d(2, 2, 3, padding=1), "b": nn.Conv2d(2, 3, 1)}
    linear = [
        lambda m, x: m.sub.a(x) - x, lambda m, x: x + x, lambda m, x: x + m.sub.a(x)[:, :1],
        lambda m, x: torch.cat([x, m.sub.b(x)], dim=1),
        lambda m, x: torch.cat([x, m.sub.a(x)], dim=2),  # a spatial axis: rows interleaved
        lambda m, x: torch.cat((m.sub.a(x), x, x), -1),
        lambda m, x: torch.stack([x, m.sub.a(x)], dim=1),
        lambda m, x: torch.stack([x, m.sub.a(x)], dim=-1),
        lambda m, x: torch.cat([x, m.c], dim=1),  # a constant block: the bias
        lambda m, x: torch.add(x, m.sub.a(x), alpha=0.5),
    ]
    for f in linear:
        model = _randomise(Fn(f, conv, c=_t(1, 1, 4, 3)))
        _check_affine(model, _x((2, 4, 3)))
    products = [lambda m, x: x * torch.sigmoid(x), lambda m, x: m.sub.a(x) * x,
                lambda m, x: x * x.mean((2, 3), keepdim=True), lambda m, x: x * x]
    for f in products:
        _check_jacobian(_randomise(Fn(f, conv)), _x((2, 4, 3)))


def test_normalisations_and_softmax_at_a_point():
    models = [nn.LayerNorm((4, 3)), nn.LayerNorm(3, elementwise_affine=False),
              nn.GroupNorm(2, 4), nn.GroupNorm(1, 4, affine=False), nn.InstanceNorm2d(4),
              nn.InstanceNorm2d(4, affine=True), nn.InstanceNorm2d(4, track_running_stats=True),
              nn.Softmax(dim=1), nn.Softmax(dim=-1), nn.LogSoftmax(dim=2), nn.PReLU(4)]
    for number, layer in enumerate(models):
        model = _randomise(nn.Sequential(nn.Conv2d(4, 4, 1), layer))
        _check_jacobian(model, _x((4, 4, 3)))
        if number in (0, 2, 7):  # inside a residual block
            _check_jacobian(_randomise(Fn(lambda m, x: m.sub.n(x) + x, {"n": layer})),
                            _x((4, 4, 3), 2))
    functional = [
        Fn(lambda m, x: F.layer_norm(x, (3,), m.w, m.b), w=_t(3), b=_t(3)),
        Fn(lambda m, x: F.group_norm(x, 2, m.w, m.b, eps=1e-3), w=_t(4), b=_t(4)),
        Fn(lambda m, x: F.instance_norm(x)), Fn(lambda m, x: F.softmax(x, dim=1)),
        Fn(lambda m, x: torch.log_softmax(x, 3)), Fn(lambda m, x: x.softmax(2)),
        Fn(lambda m, x: F.batch_norm(x, m.mean, m.var, m.w, None), mean=_t(4),
           var=_t(4).abs() + 0.5, w=_t(4)),
    ]
    for model in functional:
        _check_jacobian(model, _x((4, 4, 3)))
    with pytest.raises(ConvmatError, match=r"node sub\.n \(LayerNorm.*not linear.*pass at=x"):
        convmat.from_torch(Fn(lambda m, x: m.sub.n(x) + x, {"n": nn.LayerNorm(3)}),
                           (4, 4, 3))


# ------------------------------------------------------------------------- refusals

def _refused(model, match, shape=(2, 4, 4), at=True):
    with pytest.raises(ConvmatError, match=match) as info:
        convmat.from_torch(model, shape, at=_x(shape) if at else None)
    assert "nn.Sequential" not in str(info.value)  # no advice that cannot be followed


def test_refusals_name_the_node_and_the_line():
    line = r"at test_graphs\.py:\d+: "
    _refused(Fn(lambda m, x: (x, 2 * x)), r"returns several outputs")
    _refused(Fn(lambda m, x: {"out": x}), r"returns several outputs")
    bn = nn.BatchNorm2d(2)  # training mode
    _refused(Fn(lambda m, x: m.sub.bn(x) + x, {"bn": bn}),
             rf"node sub\.bn \(call_module sub\.bn, {line}.*\) \(BatchNorm2d\) is in training "
             rf"mode")
    _refused(Fn(lambda m, x: x if x.sum() > 0 else -x),
             rf"could not be traced with torch\.fx {line}.*x if x\.sum\(\) > 0")
    _refused(Fn(lambda m, x: torch.clamp(x, 0, 1) + x),
             rf"node clamp \(call_function clamp, {line}.*is not a function from_torch reads")
    _refused(Fn(lambda m, x: x / (x + 2)), rf"node truediv \(call_function truediv, {line}")
    _refused(Fn(lambda m, x: x.view(-1)), r"node view .* does not keep the batch axis")
    _refused(Fn(lambda m, x: x.permute(1, 0, 2, 3)), r"node permute .* moves the batch axis")
    _refused(Fn(lambda m, x: x.transpose(0, 1)), r"node transpose .* moves the batch axis")
    _refused(Fn(lambda m, x: x[0:1] + x), r"node getitem .* indexes the batch axis")
    _refused(Fn(lambda m, x: x.mean() + x), r"node mean .* reduces over the batch axis")
    _refused(Fn(lambda m, x: x.sum(0) + x), r"node sum .* reduces over the batch axis")
    _refused(Fn(lambda m, x: F.max_pool2d(x, 2, return_indices=True)[0]),
             r"node max_pool2d_with_indices .* returns several tensors")
    _refused(Fn(lambda m, x: m.sub.lstm(x.flatten(2))[0], {"lstm": nn.LSTM(16, 3)}),
             r"node sub\.lstm .*LSTM, a module type from_torch does not read.*register")
    _refused(Fn(lambda m, x: x * m.sub.c(x), {"c": nn.Conv2d(2, 2, 1)}),
             rf"node mul \(mul, {line}.*multiplies two tensors that depend on the input.*"
             rf"pass at=x", at=False)

    class TwoInputs(nn.Module):
        def forward(self, x, y):
            return x + y

    _refused(TwoInputs(), r"layer 0 \(TwoInputs\) takes 2 inputs; one is needed")


# ---------------------------------------------------------------- the representation

def test_graph_of_a_model_names_its_nodes_in_order():
    from convmat.networks._graph import Graph, Node
    from convmat.networks._graph_read import read_graph

    block = _randomise(BasicBlock(2, 4, stride=2))
    graph, values = read_graph(block, (2, 6, 6), None)
    assert graph.input.shape == (2, 6, 6) and graph.output.shape == (4, 3, 3)
    names = [n.name for n in graph.nodes]
    assert names[:4] == ["x", "downsample.0", "downsample.1", "conv1"]
    add = graph.node("add")
    assert add.op == "add" and add.inputs == ("bn2", "downsample.1")
    assert add.line.startswith("test_graphs.py:") and add.line.endswith("out += identity")
    assert graph.node("conv1").stage.type == "Conv2d" and not graph.is_chain
    assert [n.name for n in graph.consumers("x")] == ["downsample.0", "conv1"]
    assert all(values[n.name].size == n.size for n in graph.nodes)
    with pytest.raises(ConvmatError, match="not an earlier node"):
        Graph([Node("x", "input", (), (1,)), Node("y", "add", ("x", "z"), (1,))])
    with pytest.raises(ConvmatError, match="op='pow' is not one of"):
        Graph([Node("x", "input", (), (1,)), Node("y", "pow", ("x",), (1,))])
    with pytest.raises(ConvmatError, match="no node 'q'"):
        graph.node("q")


def test_graphs_in_float32_shared_modules_sizes_and_converters():
    import scipy.sparse as sp

    class Half(nn.Module):  # a user's layer: x / 2, by a converter
        def forward(self, x):
            return x / 2

    convmat.networks.register(Half, lambda m, shape, at: (
        sp.eye_array(math.prod(shape)) / 2, None, shape))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.act, self.halve = nn.Conv2d(2, 2, 3, padding=1), nn.Tanh(), Half()

        def forward(self, x):
            y = self.act(self.conv(x))            # the same modules used twice
            y = self.act(self.conv(y)) + self.halve(x)
            n, c, h, w = x.shape
            return y.reshape(n, c * h, w)[:, : x.size(1) * h]

    model = _randomise(Model(), seed=3)
    x = _x((2, 4, 5))
    a64, b64 = _check_jacobian(model, x)
    a32, b32 = convmat.from_torch(model.float(), (2, 4, 5), at=x)  # read in float64
    assert abs(a32 - a64).max() < 1e-6 and a32.dtype == np.float64


def test_dropout_and_in_place_operations():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            y = self.act(x * 2.0)                 # in place on a value read once: fine
            return F.dropout((y * 3.0).add_(1.0), 0.3, training=self.training) + x

    _check_jacobian(Model().double().eval(), _x((2, 3, 3)))
    _refused(Model().double().train(), r"node dropout .*training mode")
    _refused(Fn(lambda m, x: x.relu_() + x), r"node relu_ .*overwrites its input x in place")
    _refused(Fn(lambda m, x: F.relu(x, inplace=True) * x, ),
             r"node relu .*overwrites its input x in place")


def test_from_the_output_back_equals_from_the_input_forward():
    # a narrow output is multiplied from the output back (reverse mode); both orders
    # give the same matrix and bias, at a point and without one
    from convmat.networks._graph_matrix import graph_matrix
    from convmat.networks._graph_read import read_graph

    cases = [(SqueezeExcitation(), (4, 4, 4), True), (DenseBlock(), (3, 4, 4), True),
             (UNet2(), (1, 4, 4), True), (ResNet18(width=2), (3, 16, 16), True),
             (Fn(lambda m, x: torch.cat([x.mean((2, 3)), m.sub.c(x).sum(2)[:, 0]], 1) - 1.0,
                 {"c": nn.Conv2d(2, 2, 3)}), (2, 5, 5), False)]
    for model, shape, at in cases:
        model = _randomise(model)
        x = _x(shape) if at else None
        graph, values = read_graph(model, shape, x)
        a1, b1 = graph_matrix(graph, values, x, reverse=True)
        a2, b2 = graph_matrix(graph, values, x, reverse=False)
        assert abs(a1 - a2).max() < 1e-12 and np.abs(b1 - b2).max() < 1e-12
        if not at:
            _check_affine(model, _x(shape))


@pytest.mark.parametrize("setting", [dict(FULL_START=0.0, COLUMN_BLOCK=1),
                                     dict(FULL_START=0.0), dict(FULL_START=2.0)])
def test_nodes_on_a_filling_jacobian_dense_by_columns_or_sparse(setting, monkeypatch):
    """A node's chain on the Jacobian before it applied to that Jacobian's columns, dense
    (one column at a time: COLUMN_BLOCK 1, or in blocks), or always by sparse products
    (FULL_START over 1): the same Jacobian as autograd, and the same bias, on residual
    blocks and a U-Net; the dense way is taken when asked."""
    from convmat.networks import _chain

    for name, value in setting.items():
        monkeypatch.setattr(_chain, name, value)
    calls = []
    real = _chain._forward_columns
    monkeypatch.setattr(_chain, "_forward_columns", lambda mats: calls.append(1) or real(mats))
    for model, shape in ((nn.Sequential(BasicBlock(2, 2), BasicBlock(2, 3, stride=2)),
                          (2, 6, 6)), (UNet2(), (1, 4, 4))):
        _check_jacobian(_randomise(model), _x(shape, 2))
    assert bool(calls) == (setting["FULL_START"] < 1)
