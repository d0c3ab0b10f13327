"""LSTM text classifier of Omnigrok's IMDb experiment (§4, App. A; Golechha App. D)."""

from __future__ import annotations

import torch
from torch import nn

from grokkit.models._inputs import add_input_noise


class LSTMTextNet(nn.Module):
    r"""Embedding -> stacked LSTM -> linear readout of the last time step.

    Token indices (n, T) are embedded (index 0 is padding, a fixed zero
    vector), run through ``num_layers`` LSTM layers, and the top layer's
    output at the **last** position (the final state; with "pre" padding the
    last word of the document) is mapped to the outputs, as in the notebook
    behind Omnigrok's Fig. 4 (2 layers, embedding 64, hidden 256).

    With ``binary=True`` the head has one unit *z* and the module returns the
    two logits ``[0, z]``: softmax of them is ``[1 − σ(z), σ(z)]`` and the
    cross-entropy of them is exactly the binary cross-entropy of *z*
    (Omnigrok's loss), while every measure and prediction that reads class
    logits (argmax, softmax, circuit complexity's KL) works unchanged.

    Parameters
    ----------
    vocab_size : int
        Rows of the embedding table; inputs must lie in ``[0, vocab_size)``.
    embedding_dim : int, default=64
    hidden_size : int, default=256
    num_layers : int, default=2
    n_outputs : int, default=2
        Number of classes (``binary=True`` requires 2).
    binary : bool, default=True
    dropout : float, default=0.0
        Dropout between LSTM layers and before the readout (the notebook
        uses 0.3 before the readout; Golechha App. C: dropout removes grokking).

    Attributes
    ----------
    input_noise_std : float
        σ of Gaussian noise added to the **token embeddings** in training mode
        (Tan & Huang §3.2 adapted to discrete inputs); 0 = none.
    layer_outputs : nn.ModuleList
        Identity modules applied to each layer's final hidden state
        :math:`h_T^{(l)}`; their outputs are the hidden activations
        (``hidden_modules()`` names them ``lstm1``, ``lstm2``, ...).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        n_outputs: int = 2,
        binary: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if binary and n_outputs != 2:
            raise ValueError(f"binary=True needs n_outputs=2; got {n_outputs!r}.")
        self.embedding = nn.Embedding(int(vocab_size), int(embedding_dim), padding_idx=0)
        self.lstm = nn.LSTM(int(embedding_dim), int(hidden_size), num_layers=int(num_layers),
                            batch_first=True, dropout=float(dropout) if num_layers > 1 else 0.0)
        self.layer_outputs = nn.ModuleList(nn.Identity() for _ in range(int(num_layers)))
        self.dropout = nn.Dropout(float(dropout))
        self.binary = bool(binary)
        self.fc = nn.Linear(int(hidden_size), 1 if binary else int(n_outputs))
        self.input_noise_std = 0.0

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(tokens)
        embedded = add_input_noise(embedded, self.input_noise_std, self.training)
        _, (h_n, _) = self.lstm(embedded)
        # h_n[-1] is the top layer's output at the last position.
        states = [layer(h_n[i]) for i, layer in enumerate(self.layer_outputs)]
        logits = self.fc(self.dropout(states[-1]))
        if self.binary:
            logits = torch.cat([torch.zeros_like(logits), logits], dim=1)
        return logits

    def hidden_modules(self) -> dict[str, nn.Module]:
        """Each LSTM layer's final hidden state, by name (``lstm1`` … ``lstmL``)."""
        return {f"lstm{i + 1}": layer for i, layer in enumerate(self.layer_outputs)}
