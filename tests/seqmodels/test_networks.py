"""Network-level properties: padding never changes a prediction; batch shift augmentation."""

import torch
import torch.nn.functional as F

from components.seqmodels.networks import CNNGRU
from components.seqmodels.training import shift_batch, shift_rows


def _one_hot(idx: torch.Tensor, length: int, left: int = 0) -> torch.Tensor:
    x = F.one_hot(idx, 4).float().T  # (4, n)
    return F.pad(x, (left, length - left - x.shape[1]))


def test_cnn_gru_ignores_padding_both_directions():
    torch.manual_seed(0)
    net = CNNGRU(4, 40, 2, kernel_num=8, kernel_len=5, conv_num=1, gru_units=8, bidirectional=True).eval()
    seq = torch.randint(0, 4, (34,))  # 30 conv outputs: whole pooling windows
    full = net(_one_hot(seq, 34)[None])
    with torch.no_grad():
        for length, left in [(48, 0), (60, 0), (60, 12), (60, 24)]:
            # left offsets that are multiples of the pooling (3 x 2) keep the pooled grid aligned
            out = net(_one_hot(seq, length, left)[None])
            torch.testing.assert_close(out, full)
        # a batch mixing padded and unpadded rows gives each row its own answer
        other = torch.randint(0, 4, (60,))
        batch = torch.stack([_one_hot(seq, 60), _one_hot(other, 60)])
        torch.testing.assert_close(net(batch)[:1], full)
        torch.testing.assert_close(net(batch)[1:], net(_one_hot(other, 60)[None]))


def test_shift_batch_zero_fills_without_wrapping():
    t = torch.arange(1.0, 6.0).reshape(1, 1, 5)
    assert shift_batch(t, 2).flatten().tolist() == [0, 0, 1, 2, 3]
    assert shift_batch(t, -2).flatten().tolist() == [3, 4, 5, 0, 0]
    assert torch.equal(shift_batch(t, 0), t)
    m = torch.ones(1, 5)
    assert shift_batch(m, 1).tolist() == [[0, 1, 1, 1, 1]]


def test_shift_rows_gives_each_sequence_its_own_offset():
    t = torch.arange(1.0, 6.0).reshape(1, 1, 5).repeat(3, 2, 1)  # (3 rows, 2 channels, 5)
    out = shift_rows(t, torch.tensor([2, -1, 0]))
    assert out[0, 0].tolist() == [0, 0, 1, 2, 3] and out[0, 1].tolist() == [0, 0, 1, 2, 3]
    assert out[1, 0].tolist() == [2, 3, 4, 5, 0]
    assert torch.equal(out[2], t[2])
    # each row matches the batch shift by the same offset; masks (batch, L) too
    for i, k in enumerate([2, -1, 0]):
        assert torch.equal(out[i : i + 1], shift_batch(t[i : i + 1], k))
    m = torch.ones(2, 5)
    assert shift_rows(m, torch.tensor([1, -3])).tolist() == [[0, 1, 1, 1, 1], [1, 1, 0, 0, 0]]
