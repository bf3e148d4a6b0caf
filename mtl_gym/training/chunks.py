"""Chunk-level F1 for IOB-tagged sequences (CoNLL-2000 chunking, WNUT-17 NER), as conlleval counts it:
a chunk is correct only when its type and both boundaries match."""

from __future__ import annotations

from collections.abc import Sequence


def is_chunk_scheme(label_names: Sequence[str]) -> bool:
    """True when the tags look like IOB: ``O`` plus ``B-``/``I-`` prefixed types."""
    return any(n.startswith(("B-", "I-")) for n in label_names) and all(
        n == "O" or n.startswith(("B-", "I-")) for n in label_names
    )


def chunks(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """``(start, end, type)`` spans. An ``I-`` tag that does not continue a chunk of its type starts
    one, as conlleval does for IOB1 input."""
    spans = set()
    start, kind = None, None
    for position, tag in enumerate([*tags, "O"]):
        prefix, _, tag_type = tag.partition("-")
        continues = prefix == "I" and kind == tag_type
        if start is not None and not continues:
            spans.add((start, position, kind))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = position, tag_type
    return spans


def chunk_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Micro F1 over chunks of all sentences, in [0, 1]."""
    correct = found = expected = 0
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        gold_spans, predicted_spans = chunks(gold_tags), chunks(predicted_tags)
        correct += len(gold_spans & predicted_spans)
        found += len(predicted_spans)
        expected += len(gold_spans)
    if correct == 0:
        return 0.0
    precision, recall = correct / found, correct / expected
    return 2 * precision * recall / (precision + recall)
