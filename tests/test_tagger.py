"""The BiLSTM tagger (``ModelConfig(name="bilstm")``): it tags, classifies, reads right context and spelling."""

from __future__ import annotations

import pytest
import torch

from mtl_gym.data import UNK_ID, RawSplit, RawTask, TaskKind, VocabConfig, build_suite
from mtl_gym.models import ModelConfig, check_model
from mtl_gym.models.bilstm import char_table, reverse_index
from mtl_gym.training import Trainer, TrainerConfig, seed_everything

SMALL = {"name": "bilstm", "embedding_dim": 16, "hidden_dim": 16, "dropout": 0.0}


def right_context_suite(copies: int):
    """Tiny IOB NER where ``new`` starts a location only when ``york`` follows it: the tag of a word
    depends on the word after it, which a left-to-right LSTM has not read yet."""
    sentences = [
        (["i", "saw", "new", "york"], ["O", "O", "B-LOC", "I-LOC"]),
        (["i", "saw", "new", "cars"], ["O", "O", "O", "O"]),
        (["new", "york", "is", "big"], ["B-LOC", "I-LOC", "O", "O"]),
        (["new", "cars", "are", "big"], ["O", "O", "O", "O"]),
        (["we", "like", "paris"], ["O", "O", "B-LOC"]),
    ]
    names = ["B-LOC", "I-LOC", "O"]
    words = [w for w, _ in sentences] * copies
    tags = [[names.index(t) for t in ts] for _, ts in sentences] * copies
    split = RawSplit(words, tags, "memory")
    splits = {"train": split, "dev": split, "test": split}
    return build_suite("tiny-ner", [RawTask("ner", TaskKind.TAGGING, names, splits)])


def train(suite, steps: int, lr: float = 1e-2, **options):
    seed_everything(0)
    trainer = Trainer(ModelConfig(**(SMALL | options))(suite), suite, TrainerConfig(lr=lr, batch_size=8))
    for step in range(steps):
        trainer.step([step % len(suite)])
    return trainer


def test_bilstm_learns_a_tiny_tagging_task(tagging_suite):
    trainer = train(tagging_suite(10), steps=40)
    assert trainer.evaluate("test")["pos"].accuracy > 0.95


@pytest.mark.parametrize("char_dim", [0, 8])
def test_bilstm_learns_tags_that_need_right_context(char_dim):
    trainer = train(right_context_suite(8), steps=80, char_dim=char_dim, char_filters=8)
    assert trainer.evaluate("test")["ner"].chunk_f1 > 0.95


def test_padding_never_reaches_real_tokens():
    suite = right_context_suite(1)
    seed_everything(0)
    model = ModelConfig(**(SMALL | {"char_dim": 8, "char_filters": 8}))(suite).eval()
    batch = suite[0].train.batch(torch.arange(len(suite[0].train)))
    together = model.encode(batch.tokens, batch.lengths)
    for row, length in enumerate(batch.lengths.tolist()):
        alone = model.encode(batch.tokens[row : row + 1, :length], batch.lengths[row : row + 1])
        assert torch.allclose(together.tokens[row, :length], alone.tokens[0], atol=1e-6)
        assert torch.allclose(together.pooled[row], alone.pooled[0], atol=1e-6)


def test_bilstm_builds_and_learns_for_classification(small_suite):
    suite = small_suite.subset(["alpha"])
    trainer = train(suite, steps=160, char_dim=8, char_filters=8)
    check_model(trainer.model, len(suite))
    batch = suite[0].test.batch(torch.arange(5))
    logits = trainer.model.head(0, trainer.model.encode(batch.tokens, batch.lengths))
    assert logits.shape == (5, suite[0].num_labels)
    assert trainer.evaluate("test")["alpha"].accuracy > 0.8


def test_char_table_spells_each_vocabulary_word():
    table, size = char_table(["<pad>", "<unk>", "ab", "bad", "abcdefg"], max_chars=4)
    assert size == 2 + len(set("<unk>abdcefg"))
    assert table[0].eq(0).all()
    assert torch.equal(table[2, :3] != 0, torch.tensor([True, True, False]))
    assert table[2, 0] == table[3, 1] and table[2, 1] == table[3, 0]  # a and b
    assert table[4].ne(0).all()  # cut at max_chars


def test_reverse_index_reverses_within_each_length():
    index = reverse_index(torch.tensor([3, 1, 4]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


def test_frozen_word_embedding_leaves_characters_trainable():
    suite = right_context_suite(2)
    seed_everything(0)
    model = ModelConfig(**(SMALL | {"char_dim": 8, "char_filters": 8}))(suite)
    trainer = Trainer(model, suite, TrainerConfig(embedding_update="frozen"))
    words, chars = model.embedding.weight.detach().clone(), model.chars.weight.detach().clone()
    trainer.step([0])
    assert torch.equal(words, model.embedding.weight)
    assert not torch.equal(chars, model.chars.weight)


def test_tagger_options_belong_to_the_bilstm():
    with pytest.raises(ValueError, match="model 'cnn' has no option 'char_dim'"):
        ModelConfig(name="cnn", char_dim=30)
    with pytest.raises(ValueError, match="odd 15"):
        ModelConfig(**(SMALL | {"hidden_dim": 15}))(right_context_suite(1))


def test_eval_words_get_ids_after_training_words_and_read_as_unknown_until_trained():
    train_split = RawSplit([["new", "york"], ["new", "cars"]], [[0, 1], [2, 2]], "memory")
    test_split = RawSplit([["new", "Gotham"]], [[0, 1]], "memory")
    raw = RawTask("ner", TaskKind.TAGGING, ["B-LOC", "I-LOC", "O"], {"train": train_split})
    raw.splits |= {"dev": test_split, "test": test_split}
    closed = build_suite("closed", [raw])
    suite = build_suite("open", [raw], VocabConfig(eval_words=True))
    assert closed.vocab.token_to_id("Gotham") == UNK_ID
    assert suite.vocab.token_to_id("Gotham") == len(closed.vocab) == len(suite.vocab) - 1
    assert all(suite.vocab.token_to_id(w) == closed.vocab.token_to_id(w) for w in ("new", "york", "cars"))
    gotham, unknown, one = (
        torch.tensor([[suite.vocab.token_to_id("Gotham")]]),
        torch.tensor([[UNK_ID]]),
        torch.tensor([1]),
    )
    for char_dim in (0, 8):
        seed_everything(0)
        model = ModelConfig(**(SMALL | {"char_dim": char_dim, "char_filters": 8}))(suite).eval()
        same = torch.allclose(model.encode(gotham, one).tokens, model.encode(unknown, one).tokens)
        # Untrained, the word reads as the unknown word; only its spelling can tell them apart.
        assert same == (char_dim == 0)


def test_lowercase_words_share_the_embedding_of_their_lowercased_training_word():
    train_split = RawSplit([["new", "york"], ["new", "cars"]], [[0, 1], [2, 2]], "memory")
    test_split = RawSplit([["New", "York"]], [[0, 1]], "memory")
    raw = RawTask("ner", TaskKind.TAGGING, ["B-LOC", "I-LOC", "O"], {"train": train_split})
    raw.splits |= {"dev": test_split, "test": test_split}
    suite = build_suite("open", [raw], VocabConfig(eval_words=True))
    texts = {"lower": "new york", "upper": "New York", "unknown": "<unk> <unk>"}
    ids = {
        name: torch.tensor([[suite.vocab.token_to_id(w) for w in text.split()]])
        for name, text in texts.items()
    }
    two = torch.tensor([2])
    for lowercase_words in (False, True):
        seed_everything(0)
        model = ModelConfig(**(SMALL | {"lowercase_words": lowercase_words}))(suite)
        Trainer(model, suite, TrainerConfig(batch_size=2)).step([0])
        model.eval()
        read = {name: model.encode(tokens, two).tokens for name, tokens in ids.items()}
        # Lowercased, the dev/test-only "York" reads the trained "york"; otherwise it is unknown.
        assert torch.allclose(read["upper"], read["lower"]) == lowercase_words
        assert torch.allclose(read["upper"], read["unknown"]) != lowercase_words


def test_logit_adjustment_favours_rare_labels_at_evaluation_only():
    suite = right_context_suite(2)
    batch = suite[0].test.batch(torch.arange(len(suite[0].test)))
    train_mode, eval_mode = {}, {}
    for tau in (0.0, 1.0):
        model = train(suite, steps=5, logit_adjustment=tau).model.train()
        train_mode[tau] = model.head(0, model.encode(batch.tokens, batch.lengths))
        model.eval()
        eval_mode[tau] = model.head(0, model.encode(batch.tokens, batch.lengths))
    # Training is untouched: same seed, same steps, same logits in training mode.
    assert torch.equal(train_mode[0.0], train_mode[1.0])
    # At evaluation B-LOC (6 of 38 training tokens) gains log(29 / 7) on O (28 of 38), add-one smoothed.
    shift = eval_mode[1.0] - eval_mode[0.0]
    names = suite[0].label_names
    gain = shift[..., names.index("B-LOC")] - shift[..., names.index("O")]
    assert torch.allclose(gain, torch.tensor(29 / 7).log().expand_as(gain), atol=1e-5)
