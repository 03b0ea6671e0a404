"""FID Inception in JAX against a torch reference written after pytorch-fid, on self-made random weights.

The real pt_inception weights are not needed: a state dict with the right keys and shapes and random
values is saved with torch.save, loaded through load_fid_inception, and compared with torch
(float64) layer by layer, block by block and end to end at batch 2.
"""

import jax
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from system import inception
from system.inception import CONVS, MIXED

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def state_dict():
    """Random weights with the FID Inception keys and shapes, scaled to keep activations O(1)."""
    gen = torch.Generator().manual_seed(0)
    sd = {}
    for key, shape in inception.state_dict_shapes().items():
        if key.endswith("conv.weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            sd[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif key.endswith(("bn.weight", "running_var")):
            sd[key] = 0.8 + 0.4 * torch.rand(shape, generator=gen)
        else:
            sd[key] = 0.1 * torch.randn(shape, generator=gen)
    sd["fc.weight"] = torch.randn(1008, 2048, generator=gen) * 0.01  # present in the real file, unused
    sd["fc.bias"] = torch.zeros(1008)
    return sd


@pytest.fixture(scope="module")
def params(state_dict):
    return inception.params_from_state_dict(state_dict)


# torch reference, after pytorch-fid's FIDInceptionA/C/E_1/E_2 and torchvision's InceptionB/D
def _t_conv(sd, name, x):
    c = CONVS[name]
    d = {k: sd[f"{name}.{k}"].double() for k in
         ("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var")}
    y = F.conv2d(x, d["conv.weight"], stride=c.stride, padding=c.padding)
    y = F.batch_norm(y, d["bn.running_mean"], d["bn.running_var"], d["bn.weight"], d["bn.bias"], False, 0.0, 0.001)
    return F.relu(y)


def _t_avg(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _t_block(sd, module, kind, x):
    c = lambda name, v: _t_conv(sd, f"{module}.{name}", v)  # noqa: E731
    if kind == "A":
        out = [c("branch1x1", x), c("branch5x5_2", c("branch5x5_1", x)),
               c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))), c("branch_pool", _t_avg(x))]
    elif kind == "B":
        out = [c("branch3x3", x), c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))),
               F.max_pool2d(x, kernel_size=3, stride=2)]
    elif kind == "C":
        b7 = c("branch7x7_3", c("branch7x7_2", c("branch7x7_1", x)))
        bd = c("branch7x7dbl_5", c("branch7x7dbl_4", c("branch7x7dbl_3", c("branch7x7dbl_2", c("branch7x7dbl_1", x)))))
        out = [c("branch1x1", x), b7, bd, c("branch_pool", _t_avg(x))]
    elif kind == "D":
        b3 = c("branch3x3_2", c("branch3x3_1", x))
        b7 = c("branch7x7x3_4", c("branch7x7x3_3", c("branch7x7x3_2", c("branch7x7x3_1", x))))
        out = [b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)]
    else:
        b3 = c("branch3x3_1", x)
        bd = c("branch3x3dbl_2", c("branch3x3dbl_1", x))
        pool = _t_avg(x) if kind == "E_1" else F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        out = [c("branch1x1", x), torch.cat([c("branch3x3_2a", b3), c("branch3x3_2b", b3)], 1),
               torch.cat([c("branch3x3dbl_3a", bd), c("branch3x3dbl_3b", bd)], 1), c("branch_pool", pool)]
    return torch.cat(out, 1)


def _t_features(sd, x):
    """pytorch-fid InceptionV3 block 3 output on NCHW input in [-1, 1], resized to 299."""
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
        x = _t_conv(sd, name, x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = _t_conv(sd, "Conv2d_4a_3x3", _t_conv(sd, "Conv2d_3b_1x1", x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for module, kind, _ in MIXED:
        x = _t_block(sd, module, kind, x)
    return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


def _nchw(x):
    return torch.from_numpy(np.asarray(x, np.float64).transpose(0, 3, 1, 2))


def _assert_close(jax_nhwc, torch_nchw, rel=1e-4):
    expected = torch_nchw.numpy()
    if expected.ndim == 4:
        expected = expected.transpose(0, 2, 3, 1)
    got = np.asarray(jax_nhwc)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rel, atol=rel * np.abs(expected).max())


def test_state_dict_layout_is_torchvision_inception_v3_without_aux_and_fc():
    shapes = inception.state_dict_shapes()
    assert len(CONVS) == 94 and len(shapes) == 94 * 5
    trainable = sum(int(np.prod(s)) for k, s in shapes.items() if not k.endswith(("running_mean", "running_var")))
    assert trainable == 21_785_568  # torchvision inception_v3: 27,161,264 less AuxLogits and fc(1000)


def test_basic_conv_and_pools_match_torch(state_dict, params):
    rng = np.random.default_rng(0)
    for name, shape in (("Conv2d_1a_3x3", (2, 11, 11, 3)), ("Mixed_6b.branch7x7_2", (1, 6, 5, 128)),
                        ("Mixed_7b.branch3x3_2b", (1, 4, 4, 384))):
        x = rng.normal(size=shape).astype(np.float32)
        _assert_close(inception.basic_conv(params, name, x), _t_conv(state_dict, name, _nchw(x)))
    x = rng.normal(size=(2, 9, 8, 4)).astype(np.float32)
    _assert_close(inception.avg_pool_same(x), _t_avg(_nchw(x)))
    _assert_close(inception.max_pool(x, 2), F.max_pool2d(_nchw(x), kernel_size=3, stride=2))
    _assert_close(inception.max_pool(x, 1, 1), F.max_pool2d(_nchw(x), kernel_size=3, stride=1, padding=1))


@pytest.mark.parametrize("size", [28, 64, 400])
def test_resize_matches_torch_bilinear(size):
    x = np.random.default_rng(size).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
    expected = F.interpolate(_nchw(x), size=(299, 299), mode="bilinear", align_corners=False)
    _assert_close(inception.resize_bilinear(x), expected, rel=1e-5)


@pytest.mark.parametrize("index", [0, 3, 4, 8, 9, 10])  # one block of each kind: A, B, C, D, E_1, E_2
def test_mixed_blocks_match_torch(state_dict, params, index):
    module, kind, convs = MIXED[index]
    cin = next(iter(convs.values())).cin
    x = np.abs(np.random.default_rng(index).normal(size=(1, 7, 7, cin))).astype(np.float32)
    got = jax.jit(lambda p, v: inception.mixed_block(p, module, kind, v))(params, x)
    _assert_close(got, _t_block(state_dict, module, kind, _nchw(x)))


def test_load_fid_inception_end_to_end(tmp_path, state_dict):
    path = tmp_path / "fake_inception.pth"
    torch.save(state_dict, path)
    feature_fn = inception.load_fid_inception(path, batch_size=2)
    images = np.tanh(np.random.default_rng(1).normal(size=(3, 28, 28, 1))).astype(np.float32)
    features = feature_fn(images[:2])
    assert features.shape == (2, inception.FEATURE_DIM)
    np.testing.assert_array_equal(feature_fn(images[:2]), features)
    _assert_close(features, _t_features(state_dict, _nchw(images[:2]).repeat(1, 3, 1, 1)))
    padded = feature_fn(images)  # two batches of 2, the last one padded
    assert padded.shape == (3, inception.FEATURE_DIM)
    np.testing.assert_allclose(padded[:2], features, rtol=1e-5, atol=1e-6)


def test_missing_weights_name_the_path(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / inception.WEIGHTS_FILE
    with pytest.raises(FileNotFoundError, match=str(missing)):
        inception.load_fid_inception(missing)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    with pytest.raises(FileNotFoundError, match="torch hub cache"):
        inception.weights_path(None)
    cached = tmp_path / "torch_home" / "hub" / "checkpoints" / inception.WEIGHTS_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    assert inception.weights_path(None) == cached


def test_wrong_state_dict_is_rejected(state_dict):
    broken = dict(state_dict)
    del broken["Mixed_5b.branch1x1.conv.weight"]
    broken["Conv2d_1a_3x3.bn.weight"] = torch.ones(31)
    with pytest.raises(ValueError, match="1 keys missing.*1 with wrong shapes"):
        inception.params_from_state_dict(broken)
