"""Our MS-SSIM against pytorch-msssim (the reference implementation), and its invariants."""

import pytest
import torch

from xai_lib.metrics.msssim import ms_ssim


@pytest.mark.parametrize("win,shape", [(3, (5, 3, 64, 64)), (3, (2, 1, 40, 37)), (11, (2, 3, 180, 170))])
def test_equals_pytorch_msssim(win, shape):
    reference = pytest.importorskip("pytorch_msssim")
    torch.manual_seed(0)
    x = torch.rand(shape, dtype=torch.float64)
    y = (x + 0.2 * torch.randn(shape, dtype=torch.float64)).clamp(0, 1)
    ours = ms_ssim(x, y, data_range=1.0, win_size=win)
    ref = reference.ms_ssim(x, y, data_range=1.0, size_average=False, win_size=win)
    torch.testing.assert_close(ours, ref, atol=2e-6, rtol=2e-6)
    # one reference for all images (broadcast) gives the same values
    torch.testing.assert_close(ms_ssim(x, y[:1], win_size=win), ms_ssim(x, y[:1].expand_as(x), win_size=win))


def test_identity_is_one_and_symmetry():
    torch.manual_seed(1)
    x, y = torch.rand(3, 3, 64, 64, dtype=torch.float64), torch.rand(3, 3, 64, 64, dtype=torch.float64)
    torch.testing.assert_close(ms_ssim(x, x, win_size=3), torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(ms_ssim(x, y, win_size=3), ms_ssim(y, x, win_size=3))
    assert (ms_ssim(x, y, win_size=3) < 0.5).all()


def test_bad_input():
    x = torch.rand(1, 3, 64, 64)
    with pytest.raises(ValueError, match="y"):
        ms_ssim(x, x[:, :1])
    with pytest.raises(ValueError, match="win_size"):
        ms_ssim(x, x, win_size=4)
    with pytest.raises(ValueError, match="x"):
        ms_ssim(torch.rand(1, 3, 30, 30), torch.rand(1, 3, 30, 30), win_size=3)
