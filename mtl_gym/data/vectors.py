"""Pretrained word vectors in the GloVe / word2vec text format, for the suite vocabulary.

The file is streamed (GloVe 840B is 5 GB); only words of the vocabulary are kept. A word2vec
header line (``count dim``) is recognised and skipped. Some GloVe lines hold spaces inside the
word, so the last ``dim`` fields are the vector and the rest is the word.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .errors import DataError
from .vocab import PAD_ID, Vocabulary


def load_word_vectors(
    path: str | Path, vocab: Vocabulary, *, seed: int = 0, oov_scale: float = 0.25
) -> tuple[torch.Tensor, int]:
    """An embedding matrix ``[len(vocab), dim]`` and how many vocabulary words the file covered.

    Words missing from the file get ``U(-oov_scale, oov_scale)`` values (Kim 2014's choice, near
    the spread of GloVe components); the padding row is zero.
    """
    path = Path(path)
    wanted = {word: i for i, word in enumerate(vocab.words())}
    dim = None
    rows: dict[int, list[float]] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError("undecodable bytes (expected UTF-8)", path, number) from None
            fields = text.rstrip(" ").split(" ")
            if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                dim = int(fields[1])
                continue
            if not text.strip():
                continue
            if dim is None:
                dim = len(fields) - 1
                if dim < 1:
                    raise DataError("a vector line needs a word and at least one number", path, number)
            if len(fields) < dim + 1:
                raise DataError(
                    f"expected a word and {dim} numbers, found {len(fields)} fields", path, number
                )
            word = " ".join(fields[:-dim])
            index = wanted.get(word)
            if index is None or index in rows:
                continue
            try:
                rows[index] = [float(v) for v in fields[-dim:]]
            except ValueError:
                raise DataError(f"non-numeric vector value for {word!r}", path, number) from None
    if dim is None:
        raise DataError("file holds no vectors", path)
    generator = torch.Generator().manual_seed(seed)
    matrix = (torch.rand(len(vocab), dim, generator=generator) * 2 - 1) * oov_scale
    if rows:
        index = torch.tensor(list(rows), dtype=torch.long)
        matrix[index] = torch.tensor(list(rows.values()), dtype=torch.float32)
    matrix[PAD_ID] = 0.0
    return matrix, len(rows)
