"""LSTMTextNet: BCE through two logits, embedding noise, hidden states, padding."""

import pytest
import torch
import torch.nn.functional as F

from grokkit.models.lstm import LSTMTextNet

# LSTM backward with two OpenMP threads on busy shared cores is ~100x slower.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def net():
    return LSTMTextNet(vocab_size=30, embedding_dim=6, hidden_size=5, num_layers=2).eval()


def test_binary_logits_make_cross_entropy_the_binary_cross_entropy(net):
    tokens = torch.randint(0, 30, (7, 9))
    logits = net(tokens)
    assert logits.shape == (7, 2) and torch.all(logits[:, 0] == 0)
    y = torch.randint(0, 2, (7,))
    bce = F.binary_cross_entropy_with_logits(logits[:, 1], y.float())
    torch.testing.assert_close(F.cross_entropy(logits, y), bce)
    torch.testing.assert_close(torch.softmax(logits, 1)[:, 1], torch.sigmoid(logits[:, 1]))


def test_readout_is_the_top_layer_output_at_the_last_position(net):
    tokens = torch.randint(1, 30, (4, 6))
    with torch.no_grad():
        sequence, _ = net.lstm(net.embedding(tokens))
        expected = net.fc(sequence[:, -1])
    torch.testing.assert_close(net(tokens)[:, 1:], expected)
    assert list(net.hidden_modules()) == ["lstm1", "lstm2"]


def test_padding_embedding_is_zero_and_multiclass_head():
    net = LSTMTextNet(vocab_size=10, embedding_dim=3, hidden_size=4, num_layers=1, n_outputs=3, binary=False)
    assert torch.all(net.embedding.weight[0] == 0)
    assert net(torch.zeros(2, 5, dtype=torch.long)).shape == (2, 3)
    with pytest.raises(ValueError, match="n_outputs"):
        LSTMTextNet(vocab_size=10, n_outputs=3, binary=True)


def test_input_noise_perturbs_embeddings_in_training_mode_only(net):
    tokens = torch.randint(0, 30, (3, 5))
    clean = net(tokens)
    net.input_noise_std = 0.5
    torch.testing.assert_close(net(tokens), clean)  # eval mode: no noise
    net.train()
    assert not torch.allclose(net(tokens), clean)
