from dataclasses import replace

import numpy as np
import pytest

from mtl_gym.data.synthetic import (
    NEGATORS,
    DomainSpec,
    SyntheticConfig,
    domain_lexicon,
    polarity,
    synthetic_raw_tasks,
)
from mtl_gym.data.task import SPLITS, TaskKind, build_suite

SMALL = SyntheticConfig(
    domains=(
        DomainSpec("a", train_size=300, difficulty=0.2, label_noise=0.0),
        DomainSpec("b", train_size=200, difficulty=0.7, label_noise=0.1),
    ),
    dev_size=50,
    test_size=100,
)


@pytest.fixture(scope="module")
def default_tasks():
    return synthetic_raw_tasks()


def _dump(tasks):
    return [(t.name, s, t.splits[s].examples, t.splits[s].labels) for t in tasks for s in SPLITS]


def _has_negator(text):
    return any(word in NEGATORS for word in text.split())


def test_same_seed_same_data_and_other_seed_differs():
    assert _dump(synthetic_raw_tasks(SMALL)) == _dump(synthetic_raw_tasks(SMALL))
    other = _dump(synthetic_raw_tasks(replace(SMALL, seed=1)))
    for (_, _, texts, _), (_, _, other_texts, _) in zip(
        _dump(synthetic_raw_tasks(SMALL)), other, strict=True
    ):
        assert sum(a != b for a, b in zip(texts, other_texts, strict=True)) > 0.9 * len(texts)


def test_changing_one_domain_leaves_the_others_unchanged():
    base = SyntheticConfig()
    domains = list(base.domains)
    domains[2] = replace(domains[2], train_size=77, difficulty=0.2, label_noise=0.4)
    changed = synthetic_raw_tasks(replace(base, domains=tuple(domains)))
    original = synthetic_raw_tasks(base)
    for index, (before, after) in enumerate(zip(original, changed, strict=True)):
        same = _dump([before]) == _dump([after])
        assert same == (index != 2), before.name


def test_sizes_kind_and_balance(default_tasks):
    config = SyntheticConfig()
    assert [t.name for t in default_tasks] == [d.name for d in config.domains]
    for task, spec in zip(default_tasks, config.domains, strict=True):
        assert task.kind is TaskKind.CLASSIFICATION
        assert task.label_names == ["negative", "positive"]
        sizes = {"train": spec.train_size, "dev": config.dev_size, "test": config.test_size}
        for split, size in sizes.items():
            assert len(task.splits[split]) == size
            assert len(task.splits[split].labels) == size
            assert set(task.splits[split].labels) == {0, 1}
        assert 0.3 <= np.mean(task.splits["train"].labels) <= 0.7, task.name
        for text in task.splits["train"].examples:
            assert text == text.lower() and text == " ".join(text.split())
            assert config.min_words <= len(text.split()) <= config.max_words


def test_label_noise_flips_the_expected_fraction():
    clean = SyntheticConfig(domains=(DomainSpec("d", 2000, 0.3, 0.0),), dev_size=500)
    noisy = replace(clean, domains=(DomainSpec("d", 2000, 0.3, 0.3),))
    (before,), (after,) = synthetic_raw_tasks(clean), synthetic_raw_tasks(noisy)
    assert before.counts["noisy_labels"] == 0
    flipped = 0
    for split in SPLITS:
        a, b = before.splits[split], after.splits[split]
        assert a.examples == b.examples
        diff = np.not_equal(a.labels, b.labels)
        flipped += int(diff.sum())
        if split == "test":
            assert not diff.any()
        else:
            assert 0.25 <= diff.mean() <= 0.35, split
    assert after.counts["noisy_labels"] == flipped


@pytest.mark.parametrize("negation", [True, False])
def test_label_is_the_sign_of_polarity_after_negation(negation):
    config = replace(SMALL, negation=negation)
    tasks = synthetic_raw_tasks(config)
    for index, task in enumerate(tasks):
        lexicon = domain_lexicon(config, index)
        # Test labels are never noisy; domain "a" has no train noise.
        splits = ["test", "train"] if index == 0 else ["test"]
        negated = 0
        for split in splits:
            for text, label in zip(task.splits[split].examples, task.splits[split].labels, strict=True):
                score = polarity(text, lexicon)
                assert score != 0 and (score > 0) == (label == 1), text
                negated += _has_negator(text)
        assert (negated > 0) == negation


def test_negation_changes_words_not_labels():
    on = synthetic_raw_tasks(SMALL)
    off = synthetic_raw_tasks(replace(SMALL, negation=False))
    lexicon = domain_lexicon(SMALL, 0)
    naive_wrong = 0
    for a, b in zip(on, off, strict=True):
        for split in SPLITS:
            assert a.splits[split].labels == b.splits[split].labels
            for text_on, text_off in zip(a.splits[split].examples, b.splits[split].examples, strict=True):
                assert (text_on != text_off) == _has_negator(text_on)
    # Ignoring the negators gets some labels wrong: the word order carries information.
    for text, label in zip(on[0].splits["test"].examples, on[0].splits["test"].labels, strict=True):
        naive = sum(lexicon.get(word, 0) for word in text.split())
        naive_wrong += naive == 0 or (naive > 0) != (label == 1)
    assert naive_wrong > 10


def test_polarity_helper():
    lexicon = {"good": 1, "bad": -1}
    assert polarity("the x is good", lexicon) == 1
    assert polarity("the x is not very good", lexicon) == -1
    assert polarity("never bad and good", lexicon) == 2
    assert polarity("not good but bad", lexicon) == -2
    assert polarity("good but not bad", lexicon) == 2


def test_build_suite_shares_one_vocabulary(default_tasks):
    suite = build_suite(name="synthetic", raw_tasks=default_tasks)
    assert len(suite) == 4
    assert suite.names == [d.name for d in SyntheticConfig().domains]
    good = suite.vocab.token_to_id("good")
    assert good > 1
    for task in suite:
        assert task.num_labels == 2
        assert (task.train.tokens == good).any(), task.name
        assert task.counts["truncated"] == 0
    # Each domain has its own sentiment words, and they are in the one vocabulary.
    lexicons = [set(domain_lexicon(SyntheticConfig(), i)) for i in range(len(suite))]
    shared = set.intersection(*lexicons)
    assert "good" in shared and "bad" in shared
    own = [lexicon - shared for lexicon in lexicons]
    assert sum(len(words) for words in own) == len(set.union(*own)) > 0
    for words in own:
        known = sum(suite.vocab.token_to_id(w) > 1 for w in words)
        assert known >= 0.8 * len(words)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: DomainSpec("d", 100, 0.5, 1.5), "label_noise"),
        (lambda: DomainSpec("d", 100, -0.1, 0.0), "difficulty"),
        (lambda: DomainSpec("d", 0, 0.5, 0.0), "train_size"),
        (lambda: DomainSpec("", 10, 0.5, 0.0), "name"),
        (lambda: SyntheticConfig(dev_size=0), "dev_size"),
        (lambda: SyntheticConfig(test_size=-1), "test_size"),
        (lambda: SyntheticConfig(shared_vocab=2.0), "shared_vocab"),
        (lambda: SyntheticConfig(min_words=30, max_words=31), "max_words"),
        (lambda: SyntheticConfig(domains=()), "domains"),
        (lambda: SyntheticConfig(domains=(DomainSpec("x", 5, 0, 0),) * 2), "domain names"),
    ],
)
def test_bad_config_names_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def _bag_of_words(split, vocab_size):
    counts = np.zeros((len(split), vocab_size))
    np.add.at(counts, (np.arange(len(split))[:, None], split.tokens.numpy()), 1.0)
    counts[:, 0] = 0  # padding
    return counts


def _logistic_regression_accuracy(task, vocab_size, steps=300, lr=0.5, l2=1e-3):
    """Full-batch gradient descent on bag-of-words counts; deterministic, starts from zero."""
    x, y = _bag_of_words(task.train, vocab_size), task.train.labels.numpy()
    weight, bias = np.zeros(vocab_size), 0.0
    for _ in range(steps):
        error = 1 / (1 + np.exp(-(x @ weight + bias))) - y
        weight -= lr * (x.T @ error / len(y) + l2 * weight)
        bias -= lr * error.mean()
    predicted = _bag_of_words(task.test, vocab_size) @ weight + bias > 0
    return float(np.mean(predicted == task.test.labels.numpy()))


def test_bag_of_words_learns_easy_domain_better_than_hard(default_tasks):
    suite = build_suite("synthetic", default_tasks)
    domains = SyntheticConfig().domains
    easiest = min(range(len(domains)), key=lambda i: domains[i].difficulty)
    hardest = max(range(len(domains)), key=lambda i: domains[i].difficulty)
    easy = _logistic_regression_accuracy(suite[easiest], len(suite.vocab))
    hard = _logistic_regression_accuracy(suite[hardest], len(suite.vocab))
    assert easy > 0.7
    assert hard < easy


def test_load_suite_takes_vocab_settings_as_a_dict():
    """So that bench and run reach them through --option vocab={...} (JSON)."""
    from mtl_gym.data import load_suite

    lowered = load_suite("synthetic", vocab={"lowercase": True, "max_size": 50})
    assert len(lowered.vocab) == 50
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['max_words'\] for VocabConfig"):
        load_suite("synthetic", vocab={"max_words": 50})
